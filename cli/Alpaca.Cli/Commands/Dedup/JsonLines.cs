using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary>Reading JSON / JSONL inputs with errors that name the file and line, and writing doubles as Python does.</summary>
public static class JsonLines
{
    /// <summary>Reads a JSON array or JSONL of objects. Malformed input throws naming the file and line.</summary>
    public static List<JsonObject> ReadObjects(string path)
    {
        if (!File.Exists(path))
        {
            throw new InputException($"{path}: file not found");
        }

        var text = File.ReadAllText(path);
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('['))
        {
            try
            {
                var array = JsonNode.Parse(text) as JsonArray ?? throw new InputException($"{path}: expected a JSON array");
                return array.Select((node, i) => node as JsonObject ?? throw new InputException($"{path}: element {i} is not an object")).ToList();
            }
            catch (JsonException ex)
            {
                throw new InputException($"{path}:{(ex.LineNumber ?? 0) + 1}: malformed JSON: {ex.Message}");
            }
        }

        var objects = new List<JsonObject>();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                objects.Add(JsonNode.Parse(line) as JsonObject ?? throw new InputException($"{path}:{lineNumber}: expected a JSON object"));
            }
            catch (JsonException ex)
            {
                throw new InputException($"{path}:{lineNumber}: malformed JSON: {ex.Message}");
            }
        }

        return objects;
    }

    /// <summary>The string field of an object, or an error naming the file and record.</summary>
    public static string RequiredString(JsonObject obj, string field, string path, int record)
    {
        if (obj[field] is JsonValue value && value.TryGetValue<string>(out var s))
        {
            return s;
        }

        throw new InputException($"{path}: record {record + 1} has no string field '{field}'");
    }

    /// <summary>A double as Python's repr writes it (shortest round-trip, "1.0", "1e-05").</summary>
    public static string PythonFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        var s = value.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E', StringComparison.Ordinal))
        {
            var parts = s.Split('E');
            var mantissa = parts[0];
            var exponent = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return $"{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }

        return s.Contains('.', StringComparison.Ordinal) ? s : s + ".0";
    }

    /// <summary>A JSON number node that writes exactly <see cref="PythonFloat"/>'s text.</summary>
    public static JsonNode Number(double value) => JsonNode.Parse(PythonFloat(value))!;
}

/// <summary>Bad input: the message names the file and line; the command exits non-zero.</summary>
public sealed class InputException(string message) : Exception(message);
