using System.Text.Json;
using Alpaca.Reference;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary>
/// Reads a JSON array of objects or JSONL (one object per non-blank line). Malformed input throws an
/// <see cref="InputException"/> that names the file and the line.
/// </summary>
public static class JsonInput
{
    public static List<JsonRecord> Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read: {ex.Message}");
        }

        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        var first = start;
        while (first < bytes.Length && bytes[first] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            first++;
        }

        return first < bytes.Length && bytes[first] == (byte)'[' ? ReadArray(path, bytes, first) : ReadLines(path, bytes, start);
    }

    private static List<JsonRecord> ReadLines(string path, byte[] bytes, int start)
    {
        var records = new List<JsonRecord>();
        var line = 0;
        var position = start;
        while (position < bytes.Length)
        {
            line++;
            var end = Array.IndexOf(bytes, (byte)'\n', position);
            if (end < 0)
            {
                end = bytes.Length;
            }

            var text = bytes.AsSpan(position, end - position);
            position = end + 1;
            if (text.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            var reader = new Utf8JsonReader(text);
            try
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new InputException($"{path}:{line}: expected a JSON object, found {reader.TokenType}");
                }

                var properties = ReadObject(ref reader, text);
                if (reader.Read())
                {
                    throw new InputException($"{path}:{line}: unexpected text after the object");
                }

                records.Add(new JsonRecord(path, line, records.Count, properties));
            }
            catch (JsonException ex)
            {
                throw new InputException($"{path}:{line}: malformed JSON: {Clean(ex.Message)}");
            }
        }

        return records;
    }

    private static List<JsonRecord> ReadArray(string path, byte[] bytes, int start)
    {
        var records = new List<JsonRecord>();
        var span = bytes.AsSpan(start);
        var reader = new Utf8JsonReader(span);
        var lineAt = 0;
        var line = 1 + bytes.AsSpan(0, start).Count((byte)'\n');
        try
        {
            reader.Read(); // '['
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var offset = (int)reader.TokenStartIndex;
                line += span[lineAt..offset].Count((byte)'\n');
                lineAt = offset;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new InputException($"{path}:{line}: element {records.Count + 1} is not a JSON object");
                }

                records.Add(new JsonRecord(path, line, records.Count, ReadObject(ref reader, span)));
            }

            if (reader.TokenType != JsonTokenType.EndArray)
            {
                throw new InputException($"{path}: the JSON array is not closed");
            }

            if (reader.Read())
            {
                throw new InputException($"{path}:{line}: unexpected text after the JSON array");
            }
        }
        catch (JsonException ex)
        {
            var at = ex.LineNumber is { } n ? (n + 1 + bytes.AsSpan(0, start).Count((byte)'\n')).ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
            throw new InputException($"{path}:{at}: malformed JSON: {Clean(ex.Message)}");
        }

        return records;
    }

    /// <summary>Reads the object the reader stands on (StartObject) into raw top-level properties.</summary>
    private static List<JsonRecord.Property> ReadObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> source)
    {
        var properties = new List<JsonRecord.Property>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = (int)reader.TokenStartIndex;
            var rawName = source[nameStart..(int)reader.BytesConsumed].TrimEnd(" \t\r\n:"u8).ToArray();
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            var rawValue = Minify(source[valueStart..(int)reader.BytesConsumed]);
            properties.Add(new JsonRecord.Property(PyJson.DecodeString(rawName), rawName, rawValue));
        }

        return properties;
    }

    /// <summary>Drops whitespace outside strings (the reader has validated the text).</summary>
    private static byte[] Minify(ReadOnlySpan<byte> json)
    {
        var output = new List<byte>(json.Length);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                output.Add(b);
                if (b == (byte)'\\')
                {
                    output.Add(json[++i]);
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                output.Add(b);
                inString = b == (byte)'"';
            }
        }

        return [.. output];
    }

    private static string Clean(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return cut < 0 ? message : message[..cut];
    }
}
