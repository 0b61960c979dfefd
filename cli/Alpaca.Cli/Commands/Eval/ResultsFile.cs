using System.Text;
using System.Text.Json.Nodes;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>
/// <c>results.jsonl</c>: one JSON object per evaluated item, appended and fsynced as each item finishes, so an
/// interrupted evaluation loses at most the item in flight and a rerun skips every id already there. A torn last
/// line (a crash mid-write) is dropped on load and cut off before the next append. When an id appears twice the
/// later row wins (a row re-judged on a rerun is appended again).
/// </summary>
internal sealed class ResultsFile(string path)
{
    public string Path { get; } = path;

    public Dictionary<string, JsonObject> Load()
    {
        var rows = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        if (!File.Exists(Path))
        {
            return rows;
        }

        var text = File.ReadAllText(Path, Encoding.UTF8);
        var complete = text.LastIndexOf('\n') + 1;
        if (complete < text.Length)
        {
            // A torn last line: keep the file to its last complete row.
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Write);
            stream.SetLength(Encoding.UTF8.GetByteCount(text.AsSpan(0, complete)));
            text = text[..complete];
        }

        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (JsonNode.Parse(line) is JsonObject row && row["id"]?.GetValue<string>() is { } id)
            {
                rows[id] = row;
            }
        }

        return rows;
    }

    /// <summary>Reads rows in file order (the later row of an id wins), for reports and comparisons.</summary>
    public static List<JsonObject> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"not found: {path}", path);
        }

        var byId = new ResultsFile(path).Load();
        return [.. byId.Values];
    }

    public void Append(JsonObject row)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        var bytes = Encoding.UTF8.GetBytes(row.ToJsonString() + "\n");
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }
}
