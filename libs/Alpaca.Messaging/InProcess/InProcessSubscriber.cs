using Microsoft.Extensions.Hosting;

namespace Alpaca.Messaging.InProcess;

/// <summary>Consumes this service's topics from the in-process broker, retrying failed deliveries
/// with back-off and dead-lettering after <see cref="MessagingOptions.MaxDeliveries"/>.</summary>
public sealed class InProcessSubscriber : BackgroundService
{
    private readonly InProcessBroker broker;
    private readonly EventDispatcher dispatcher;
    private readonly MessagingOptions options;
    private readonly Dictionary<string, System.Threading.Channels.ChannelReader<InProcessBroker.Delivery>> _queues;

    public InProcessSubscriber(InProcessBroker broker, EventDispatcher dispatcher, MessagingOptions options)
    {
        this.broker = broker;
        this.dispatcher = dispatcher;
        this.options = options;
        // Join the topics now, while the host starts: ExecuteAsync runs later on the thread pool, and an
        // event published in between must already find this group's queue.
        _queues = dispatcher.Topics.ToDictionary(t => t, t => broker.Subscribe(t, dispatcher.AppId));
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_queues.Select(q => ConsumeAsync(q.Key, q.Value, stoppingToken)));

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
