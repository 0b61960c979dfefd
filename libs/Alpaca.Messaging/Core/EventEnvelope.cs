using System.Text.Json;
using System.Text.Json.Serialization;

namespace Alpaca.Messaging;

/// <summary>
/// A CloudEvents 1.0 envelope (structured JSON mode). <see cref="Data"/> is the event message in
/// protobuf JSON; <see cref="Type"/> is its full protobuf name (e.g. <c>alpaca.v1.CandidatesProduced</c>).
/// </summary>
public sealed record EventEnvelope
{
    [JsonPropertyName("specversion")]
    public string SpecVersion { get; init; } = "1.0";

    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("time")]
    public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;

    [JsonPropertyName("topic")]
    public required string Topic { get; init; }

    [JsonPropertyName("datacontenttype")]
    public string DataContentType { get; init; } = "application/json";

    [JsonPropertyName("data")]
    public required JsonElement Data { get; init; }

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    /// <summary>Parses a structured CloudEvent; throws <see cref="PoisonEventException"/> when it is not one.</summary>
    public static EventEnvelope Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            string Required(string name) =>
                root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String && p.GetString() is { Length: > 0 } s
                    ? s
                    : throw new PoisonEventException($"CloudEvent is missing '{name}'.");

            if (!root.TryGetProperty("data", out var data))
            {
                throw new PoisonEventException("CloudEvent has no 'data'.");
            }

            return new EventEnvelope
            {
                SpecVersion = Required("specversion"),
                Id = Required("id"),
                Source = Required("source"),
                Type = Required("type"),
                Topic = root.TryGetProperty("topic", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "",
                Time = root.TryGetProperty("time", out var time) && time.ValueKind == JsonValueKind.String && time.TryGetDateTimeOffset(out var parsed) ? parsed : DateTimeOffset.UtcNow,
                DataContentType = root.TryGetProperty("datacontenttype", out var ct) && ct.ValueKind == JsonValueKind.String ? ct.GetString()! : "application/json",
                Data = data.Clone(),
            };
        }
        catch (JsonException ex)
        {
            throw new PoisonEventException("CloudEvent is not valid JSON: " + ex.Message, ex);
        }
    }
}
