using Microsoft.Extensions.Hosting;

namespace Alpaca.Messaging.InProcess;

/// <summary>Consumes this service's topics from the in-process broker, retrying failed deliveries
/// with back-off and dead-lettering after <see cref="MessagingOptions.MaxDeliveries"/>.</summary>
public sealed class InProcessSubscriber : BackgroundService
{
    private readonly InProcessBroker _broker;
    private readonly EventDispatcher _dispatcher;
    private readonly MessagingOptions _options;
    private readonly Dictionary<string, System.Threading.Channels.ChannelReader<InProcessBroker.Delivery>> _queues;

    public InProcessSubscriber(InProcessBroker broker, EventDispatcher dispatcher, MessagingOptions options)
    {
        this._broker = broker;
        this._dispatcher = dispatcher;
        this._options = options;
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
                var outcome = await _dispatcher.DispatchAsync(delivery.Envelope, delivery.Attempt, stoppingToken).ConfigureAwait(false);
                if (outcome == DispatchOutcome.Drop)
                {
                    _broker.DeadLetter(delivery.Envelope, _dispatcher.AppId, "dropped by handler");
                }
                else if (outcome == DispatchOutcome.InProgress)
                {
                    // Another delivery runs it now: look again later without counting a failure.
                    _ = RequeueLaterAsync(topic, delivery, stoppingToken);
                }
                else if (outcome == DispatchOutcome.Retry)
                {
                    if (delivery.Attempt >= _options.MaxDeliveries)
                    {
                        _broker.DeadLetter(delivery.Envelope, _dispatcher.AppId, $"failed {delivery.Attempt} deliveries");
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
            _broker.Requeue(topic, _dispatcher.AppId, delivery);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
