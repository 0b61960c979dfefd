using System.Text;
using System.Text.Json;

namespace Alpaca.Trainer.Data;

/// <summary>
/// Reads instruction data: a JSON array of records (<c>alpaca_data.json</c>) or JSON Lines, one record
/// per line. A record needs string fields <c>instruction</c> and <c>output</c>; <c>input</c> is optional
/// (missing = ""). Every error names the file, the record number and its line.
/// </summary>
public static class AlpacaDataReader
{
    public static List<AlpacaRecord> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Training data not found: {path}", path);
        }

        var bytes = File.ReadAllBytes(path);
        var start = SkipWhitespaceAndBom(bytes);
        if (start >= bytes.Length)
        {
            throw new InvalidDataException($"{path}: the file is empty.");
        }

        var records = bytes[start] == (byte)'[' ? ReadArray(path, bytes, start) : ReadLines(path, bytes);
        if (records.Count == 0)
        {
            throw new InvalidDataException($"{path}: no records.");
        }

        return records;
    }

    private static List<AlpacaRecord> ReadArray(string path, byte[] bytes, int start)
    {
        var records = new List<AlpacaRecord>();
        var lines = new LineCounter(bytes);
        var reader = new Utf8JsonReader(bytes.AsSpan(start), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        try
        {
            reader.Read(); // '['
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var line = lines.LineAt(start + reader.TokenStartIndex);
                using var doc = JsonDocument.ParseValue(ref reader);
                records.Add(ToRecord(doc.RootElement, path, records.Count, line));
            }

            if (reader.TokenType != JsonTokenType.EndArray)
            {
                throw new InvalidDataException($"{path}: the JSON array is not closed.");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: line {e.LineNumber + 1}: invalid JSON after record {records.Count}: {e.Message}", e);
        }

        return records;
    }

    private static List<AlpacaRecord> ReadLines(string path, byte[] bytes)
    {
        var records = new List<AlpacaRecord>();
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0)
            {
                continue;
            }

            try
            {
                using var doc = JsonDocument.Parse(text);
                records.Add(ToRecord(doc.RootElement, path, records.Count, i + 1));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: line {i + 1}: invalid JSON: {e.Message}", e);
            }
        }

        return records;
    }

    private static AlpacaRecord ToRecord(JsonElement element, string path, int index, long line)
    {
        var where = $"{path}: record {index} (line {line})";
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{where}: expected an object with 'instruction', 'input' and 'output', got {element.ValueKind}.");
        }

        return new AlpacaRecord(
            Field(element, "instruction", where, required: true),
            Field(element, "input", where, required: false),
            Field(element, "output", where, required: true));
    }

    private static string Field(JsonElement element, string name, string where, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new InvalidDataException($"{where}: missing field '{name}'.") : string.Empty;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{where}: field '{name}' must be a string, got {value.ValueKind}.");
    }

    private static int SkipWhitespaceAndBom(byte[] bytes)
    {
        var i = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        while (i < bytes.Length && (bytes[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
        {
            i++;
        }

        return i;
    }

    /// <summary>Line numbers for increasing byte offsets in one pass over the file.</summary>
    private sealed class LineCounter(byte[] bytes)
    {
        private long _offset;
        private long _line = 1;

        public long LineAt(long target)
        {
            for (; _offset < target && _offset < bytes.Length; _offset++)
            {
                if (bytes[_offset] == (byte)'\n')
                {
                    _line++;
                }
            }

            return _line;
        }
    }
}
