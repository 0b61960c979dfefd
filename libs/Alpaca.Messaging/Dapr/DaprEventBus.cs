using Dapr.Client;
using Google.Protobuf;

namespace Alpaca.Messaging.Dapr;

/// <summary>
/// Publishes through the Dapr sidecar (gRPC <c>PublishEvent</c>). The event goes as our own structured
/// CloudEvent (<c>application/cloudevents+json</c>), which Dapr passes on unchanged apart from adding its
/// tracing and topic attributes, so ids, type and source are the same on every transport.
/// </summary>
public sealed class DaprEventBus(DaprClient dapr, MessagingOptions options) : IEventBus
{
    public const string CloudEventsContentType = "application/cloudevents+json";

    public async Task<EventEnvelope> PublishAsync<TEvent>(TEvent @event, string? eventId = null, CancellationToken cancellationToken = default)
        where TEvent : IMessage<TEvent>
    {
        var envelope = EventSerializer.Wrap(@event, options.AppId, eventId);
        await dapr.PublishByteEventAsync(
            options.Dapr.PubSubName,
            envelope.Topic,
            envelope.ToJsonBytes(),
            CloudEventsContentType,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return envelope;
    }
}
