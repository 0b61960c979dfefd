using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Messaging;

/// <summary>One handler subscribed to one topic; registered by <c>AddEventHandler</c>.</summary>
public sealed class EventSubscription
{
    private readonly Func<IServiceProvider, EventEnvelope, int, CancellationToken, Task> _invoke;

    private EventSubscription(string topic, string handlerName, TimeSpan? processingLease, Func<IServiceProvider, EventEnvelope, int, CancellationToken, Task> invoke)
    {
        Topic = topic;
        HandlerName = handlerName;
        ProcessingLease = processingLease;
        _invoke = invoke;
    }

    /// <summary>The topic listened to.</summary>
    public string Topic { get; }

    /// <summary>A stable name of the handler, part of its idempotency keys.</summary>
    public string HandlerName { get; }

    /// <summary>This handler's processing lease when it differs from <see cref="MessagingOptions.ProcessingLease"/>.</summary>
    public TimeSpan? ProcessingLease { get; }

    public Task InvokeAsync(IServiceProvider services, EventEnvelope envelope, int attempt, CancellationToken cancellationToken) =>
        _invoke(services, envelope, attempt, cancellationToken);

    public static EventSubscription Create<TEvent, THandler>(TimeSpan? processingLease = null)
        where TEvent : IMessage<TEvent>, new()
        where THandler : IEventHandler<TEvent>
    {
        var topic = EventTopics.For(new TEvent().Descriptor);
        return new EventSubscription(topic, typeof(THandler).Name, processingLease, (services, envelope, attempt, ct) =>
        {
            var @event = EventSerializer.Unwrap<TEvent>(envelope);
            var handler = services.GetRequiredService<THandler>();
            return handler.HandleAsync(@event, new EventContext(envelope, attempt), ct);
        });
    }
}
