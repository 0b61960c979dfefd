using System.Text.Json;

namespace Alpaca.Llm.SafeTensors;

/// <summary>
/// A Hugging Face checkpoint's weights: one <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {"tensor": "shard file"}}</c>).
/// Tensors are looked up by name across all shards; every shard is memory-mapped.
/// </summary>
public sealed class SafeTensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafeTensorsFile> _files = [];
    private readonly Dictionary<string, (SafeTensorsFile File, SafeTensorInfo Info)> _tensors = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    private SafeTensorsCheckpoint(string location)
    {
        Location = location;
    }

    /// <summary>The folder or file that was opened.</summary>
    public string Location { get; }

    public IReadOnlyList<SafeTensorsFile> Files => _files;

    /// <summary>Tensor names in shard order, then header order.</summary>
    public IReadOnlyList<string> TensorNames => _order;

    /// <summary>Opens a model folder (index or single file), an index JSON, or a single .safetensors file.</summary>
    public static SafeTensorsCheckpoint Open(string path)
    {
        var checkpoint = new SafeTensorsCheckpoint(path);
        try
        {
            if (Directory.Exists(path))
            {
                var index = Path.Combine(path, IndexFileName);
                var single = Path.Combine(path, SingleFileName);
                if (File.Exists(index))
                {
                    checkpoint.LoadIndex(index);
                }
                else if (File.Exists(single))
                {
                    checkpoint.AddFile(single, null);
                }
                else
                {
                    var any = Directory.GetFiles(path, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
                    if (any.Length == 0)
                    {
                        var hint = File.Exists(Path.Combine(path, "pytorch_model.bin")) ? " (it has pytorch_model.bin; convert it to safetensors first)" : "";
                        throw new FileNotFoundException($"{path}: no {SingleFileName}, {IndexFileName} or *.safetensors file in this folder{hint}.");
                    }

                    foreach (var f in any)
                    {
                        checkpoint.AddFile(f, null);
                    }
                }
            }
            else if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                checkpoint.LoadIndex(path);
            }
            else
            {
                checkpoint.AddFile(path, null);
            }

            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public bool TryGetTensor(string name, out SafeTensorsFile file, out SafeTensorInfo info)
    {
        if (_tensors.TryGetValue(name, out var entry))
        {
            (file, info) = entry;
            return true;
        }

        (file, info) = (null!, null!);
        return false;
    }

    public SafeTensorInfo GetInfo(string name) =>
        _tensors.TryGetValue(name, out var e) ? e.Info : throw new KeyNotFoundException($"{Location}: no tensor named '{name}'.");

    public float[] ReadAsFloat32(string name) =>
        _tensors.TryGetValue(name, out var e) ? e.File.ReadAsFloat32(e.Info) : throw new KeyNotFoundException($"{Location}: no tensor named '{name}'.");

    private void LoadIndex(string indexPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        Dictionary<string, List<string>> byShard;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsFormatException(indexPath, "weight_map", "missing or not an object");
            }

            byShard = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                // A shard must be a plain file name beside the index: no folders, no escaping the model dir.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                {
                    throw new SafeTensorsFormatException(indexPath, $"weight_map.{entry.Name}", $"'{entry.Value.GetRawText()}' is not a shard file name");
                }

                if (!byShard.TryGetValue(shard, out var names))
                {
                    byShard[shard] = names = [];
                }

                names.Add(entry.Name);
            }
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(indexPath, "index", $"invalid JSON (line {e.LineNumber + 1}): {e.Message}");
        }

        foreach (var shard in byShard.Keys.Order(StringComparer.Ordinal))
        {
            var shardPath = Path.Combine(dir, shard);
            if (!File.Exists(shardPath))
            {
                throw new SafeTensorsFormatException(indexPath, "weight_map", $"shard '{shard}' does not exist in {dir}");
            }

            AddFile(shardPath, byShard[shard]);
        }
    }

    private void AddFile(string path, List<string>? expected)
    {
        var file = SafeTensorsFile.Open(path);
        _files.Add(file);
        foreach (var name in expected ?? file.Tensors.Select(t => t.Name))
        {
            if (!file.TryGetTensor(name, out var info))
            {
                throw new SafeTensorsFormatException(path, name, "listed in the index but missing from this shard");
            }

            if (!_tensors.TryAdd(name, (file, info)))
            {
                throw new SafeTensorsFormatException(path, name, "tensor appears in more than one shard");
            }

            _order.Add(name);
        }
    }

    public void Dispose()
    {
        foreach (var f in _files)
        {
            f.Dispose();
        }

        _files.Clear();
    }
}
