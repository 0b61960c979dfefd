using System.Text.Json;
using Google.Protobuf;

namespace Alpaca.Messaging;

/// <summary>Builds envelopes from protobuf events and reads them back.</summary>
public static class EventSerializer
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static EventEnvelope Wrap<TEvent>(TEvent @event, string source, string? eventId = null)
        where TEvent : IMessage<TEvent>
    {
        using var data = JsonDocument.Parse(Formatter.Format(@event));
        return new EventEnvelope
        {
            Id = eventId ?? Guid.NewGuid().ToString("N"),
            Source = source,
            Type = @event.Descriptor.FullName,
            Topic = EventTopics.For(@event.Descriptor),
            Data = data.RootElement.Clone(),
        };
    }

    /// <summary>Reads the event out of an envelope; fields added by newer publishers are ignored.</summary>
    public static TEvent Unwrap<TEvent>(EventEnvelope envelope)
        where TEvent : IMessage<TEvent>, new()
    {
        var expected = new TEvent().Descriptor.FullName;
        if (!string.Equals(envelope.Type, expected, StringComparison.Ordinal))
        {
            throw new PoisonEventException($"Event {envelope.Id} has type '{envelope.Type}', expected '{expected}'.");
        }

        try
        {
            return Parser.Parse<TEvent>(envelope.Data.GetRawText());
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoisonEventException($"Event {envelope.Id} data is not a valid {expected}: {ex.Message}", ex);
        }
    }
}
