using Google.Protobuf;

namespace Alpaca.Messaging;

/// <summary>Publishes integration events; the transport is chosen by configuration.</summary>
public interface IEventBus
{
    /// <summary>
    /// Publishes an event. When the task completes the transport has accepted it (at-least-once delivery
    /// from there on). <paramref name="eventId"/> defaults to a new id; pass a stable one to make a
    /// retried publish recognisable as the same event by idempotent handlers.
    /// </summary>
    Task<EventEnvelope> PublishAsync<TEvent>(TEvent @event, string? eventId = null, CancellationToken cancellationToken = default)
        where TEvent : IMessage<TEvent>;
}

/// <summary>Handles one integration event type. Handlers must tolerate redelivery (the dispatcher also
/// remembers processed ids, but a crash between the handler's effect and that record redelivers).</summary>
public interface IEventHandler<in TEvent>
    where TEvent : IMessage<TEvent>
{
    Task HandleAsync(TEvent @event, EventContext context, CancellationToken cancellationToken);
}

/// <summary>What a handler knows of the delivery.</summary>
public sealed record EventContext(EventEnvelope Envelope, int Attempt);
