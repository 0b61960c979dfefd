using Google.Protobuf;
using StackExchange.Redis;

namespace Alpaca.Messaging.Redis;

/// <summary>Publishes each event as one entry (field <c>envelope</c>) of the topic's stream, trimmed
/// to about <see cref="MessagingOptions.RedisStreamsOptions.MaxLength"/> entries.</summary>
public sealed class RedisStreamsEventBus(IConnectionMultiplexer redis, MessagingOptions options) : IEventBus
{
    public const string EnvelopeField = "envelope";

    public async Task<EventEnvelope> PublishAsync<TEvent>(TEvent @event, string? eventId = null, CancellationToken cancellationToken = default)
        where TEvent : IMessage<TEvent>
    {
        var envelope = EventSerializer.Wrap(@event, options.AppId, eventId);
        var maxLength = options.Redis.MaxLength > 0 ? options.Redis.MaxLength : (int?)null;
        await redis.GetDatabase().StreamAddAsync(
            StreamKey(options, envelope.Topic),
            EnvelopeField,
            envelope.ToJsonBytes(),
            maxLength: maxLength,
            useApproximateMaxLength: true).ConfigureAwait(false);
        return envelope;
    }

    public static RedisKey StreamKey(MessagingOptions options, string topic) => options.Redis.StreamPrefix + topic;

    public static RedisKey DeadLetterKey(MessagingOptions options, string topic) => options.Redis.StreamPrefix + topic + ":deadletter";
}
