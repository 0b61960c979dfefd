using System.Text.Json;
using Alpaca.Inference.Api.Generation;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>Typed reads of an OpenAI request body that answer a wrong type with a 400 naming the field.</summary>
internal readonly struct JsonFields(JsonElement root)
{
    public bool Has(string name) => root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonElement? Get(string name) => root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name) => Get(name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string")
        : null;

    public double? Number(string name) => Get(name) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(name, "a number")
        : null;

    public int? Int(string name) => Get(name) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Wrong(name, "an integer")
        : null;

    public long? Long(string name) => Get(name) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var i) ? i : throw Wrong(name, "an integer")
        : null;

    public bool? Bool(string name) => Get(name) is { } v
        ? v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Wrong(name, "a boolean")
        : null;

    /// <summary>A string or an array of strings (OpenAI's <c>stop</c>).</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        if (Get(name) is not { } v)
        {
            return [];
        }

        if (v.ValueKind == JsonValueKind.String)
        {
            return [v.GetString()!];
        }

        if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            return v.EnumerateArray().Select(e => e.GetString()!).ToList();
        }

        throw Wrong(name, "a string or an array of strings");
    }

    public IReadOnlyList<int> Ints(string name)
    {
        if (Get(name) is not { } v)
        {
            return [];
        }

        if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)))
        {
            return v.EnumerateArray().Select(e => e.GetInt32()).ToList();
        }

        throw Wrong(name, "an array of integers");
    }

    public static InferenceException Wrong(string name, string what) => InferenceException.Invalid($"'{name}' must be {what}.", name);
}
