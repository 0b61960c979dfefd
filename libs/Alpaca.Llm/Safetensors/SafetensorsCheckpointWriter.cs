using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Llm.IO;

namespace Alpaca.Llm.Safetensors;

/// <summary>
/// Writes an HF checkpoint's weights into a folder: one <c>model.safetensors</c> when everything fits in
/// <see cref="MaxShardBytes"/>, else <c>model-0000i-of-0000N.safetensors</c> shards plus
/// <c>model.safetensors.index.json</c>, the layout transformers' <c>save_pretrained</c> produces.
/// Tensors stream out one at a time through their write callbacks, so memory stays flat. Every file is
/// written under a temporary name and renamed into place; weights of an earlier save into the same folder
/// (a single file or other shards) are removed, so a reader never mixes two saves.
/// </summary>
public sealed class SafetensorsCheckpointWriter
{
    private readonly List<(string Name, SafetensorsDType DType, long[] Shape, long Bytes, Action<Stream> Write)> _tensors = [];

    /// <summary>Largest shard (transformers' default is 5 GB); a single larger tensor still gets its own shard.</summary>
    public long MaxShardBytes { get; init; } = 5_000_000_000;

    public void Add(string name, SafetensorsDType dtype, long[] shape, Action<Stream> write)
    {
        var bytes = checked(shape.Aggregate(1L, (a, d) => checked(a * d)) * SafetensorsDTypes.ElementSize(dtype));
        _tensors.Add((name, dtype, shape, bytes, write));
    }

    public void Add(string name, SafetensorsDType dtype, long[] shape, ReadOnlyMemory<byte> data) =>
        Add(name, dtype, shape, s => s.Write(data.Span));

    /// <summary>Writes the files; returns their paths (the index last when sharded).</summary>
    public IReadOnlyList<string> WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);

        // The index first: SafetensorsCheckpoint prefers it, so a stale one would win over a new single file.
        File.Delete(Path.Combine(directory, SafetensorsCheckpoint.IndexFileName));
        var written = WriteFiles(directory);
        var names = written.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in Directory.GetFiles(directory, "model*.safetensors*").Where(f => !names.Contains(Path.GetFileName(f))))
        {
            File.Delete(stale);
        }

        DurableFile.FlushDirectory(directory); // the deletions too, so a reader never sees a stale shard beside the new ones

        return written;
    }

    private List<string> WriteFiles(string directory)
    {
        var shards = new List<List<int>> { new() };
        long current = 0;
        for (var i = 0; i < _tensors.Count; i++)
        {
            if (current > 0 && current + _tensors[i].Bytes > MaxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }

            shards[^1].Add(i);
            current += _tensors[i].Bytes;
        }

        var written = new List<string>();
        if (shards.Count == 1)
        {
            var path = Path.Combine(directory, SafetensorsCheckpoint.SingleFileName);
            WriteShard(path, shards[0]);
            written.Add(path);
            return written;
        }

        var weightMap = new JsonObject();
        for (var s = 0; s < shards.Count; s++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"model-{s + 1:D5}-of-{shards.Count:D5}.safetensors");
            var path = Path.Combine(directory, name);
            WriteShard(path, shards[s]);
            written.Add(path);
            foreach (var i in shards[s])
            {
                weightMap[_tensors[i].Name] = name;
            }
        }

        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = _tensors.Sum(t => t.Bytes) },
            ["weight_map"] = weightMap,
        };
        var indexPath = Path.Combine(directory, SafetensorsCheckpoint.IndexFileName);
        DurableFile.WriteAllText(indexPath, index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        written.Add(indexPath);
        return written;
    }

    private void WriteShard(string path, List<int> members)
    {
        var writer = new SafetensorsWriter();
        foreach (var i in members)
        {
            var t = _tensors[i];
            writer.Add(t.Name, t.DType, t.Shape, t.Write);
        }

        writer.WriteTo(path);
    }
}
