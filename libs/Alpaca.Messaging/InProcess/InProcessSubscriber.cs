using Microsoft.Extensions.Hosting;

namespace Alpaca.Messaging.InProcess;

/// <summary>Consumes this service's topics from the in-process broker, retrying failed deliveries
/// with back-off and dead-lettering after <see cref="MessagingOptions.MaxDeliveries"/>.</summary>
public sealed class InProcessSubscriber(InProcessBroker broker, EventDispatcher dispatcher, MessagingOptions options) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(dispatcher.Topics.Select(topic => ConsumeAsync(topic, broker.Subscribe(topic, dispatcher.AppId), stoppingToken)));

    private async Task ConsumeAsync(string topic, System.Threading.Channels.ChannelReader<InProcessBroker.Delivery> reader, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var delivery in reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                var outcome = await dispatcher.DispatchAsync(delivery.Envelope, delivery.Attempt, stoppingToken).ConfigureAwait(false);
                if (outcome == DispatchOutcome.Drop)
                {
                    broker.DeadLetter(delivery.Envelope, dispatcher.AppId, "dropped by handler");
                }
                else if (outcome == DispatchOutcome.Retry)
                {
                    if (delivery.Attempt >= options.MaxDeliveries)
                    {
                        broker.DeadLetter(delivery.Envelope, dispatcher.AppId, $"failed {delivery.Attempt} deliveries");
                    }
                    else
                    {
                        _ = RequeueLaterAsync(topic, delivery with { Attempt = delivery.Attempt + 1 }, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RequeueLaterAsync(string topic, InProcessBroker.Delivery delivery, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50 * (1 << Math.Min(delivery.Attempt, 8))), stoppingToken).ConfigureAwait(false);
            broker.Requeue(topic, dispatcher.AppId, delivery);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
