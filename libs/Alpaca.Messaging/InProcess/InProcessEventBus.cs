using Google.Protobuf;

namespace Alpaca.Messaging.InProcess;

/// <summary>Publishes to the process-wide <see cref="InProcessBroker"/>.</summary>
public sealed class InProcessEventBus(InProcessBroker broker, MessagingOptions options) : IEventBus
{
    public Task<EventEnvelope> PublishAsync<TEvent>(TEvent @event, string? eventId = null, CancellationToken cancellationToken = default)
        where TEvent : IMessage<TEvent>
    {
        var envelope = EventSerializer.Wrap(@event, options.AppId, eventId);
        broker.Publish(envelope);
        return Task.FromResult(envelope);
    }
}
