using System.Text.Json;

namespace Alpaca.Llm.Safetensors;

/// <summary>
/// A Hugging Face checkpoint's weights: one <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {"tensor": "shard file"}}</c>).
/// Tensors are looked up by name across all shards; every shard is memory-mapped.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files = [];
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _tensors = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    private SafetensorsCheckpoint(string location)
    {
        Location = location;
    }

    /// <summary>The folder or file that was opened.</summary>
    public string Location { get; }

    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Tensor names in shard order, then header order.</summary>
    public IReadOnlyList<string> TensorNames => _order;

    /// <summary>Opens a model folder (index or single file), an index JSON, or a single .safetensors file.</summary>
    public static SafetensorsCheckpoint Open(string path)
    {
        var checkpoint = new SafetensorsCheckpoint(path);
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

    public bool TryGetTensor(string name, out SafetensorsFile file, out SafetensorsTensorInfo info)
    {
        if (_tensors.TryGetValue(name, out var entry))
        {
            (file, info) = entry;
            return true;
        }

        (file, info) = (null!, null!);
        return false;
    }

    public SafetensorsTensorInfo GetInfo(string name) =>
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
                throw new SafetensorsFormatException(indexPath, "weight_map", "missing or not an object");
            }

            byShard = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                // A shard must be a plain file name beside the index: no folders, no escaping the model dir.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                {
                    throw new SafetensorsFormatException(indexPath, $"weight_map.{entry.Name}", $"'{entry.Value.GetRawText()}' is not a shard file name");
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
            throw new SafetensorsFormatException(indexPath, "index", $"invalid JSON (line {e.LineNumber + 1}): {e.Message}");
        }

        foreach (var shard in byShard.Keys.Order(StringComparer.Ordinal))
        {
            var shardPath = Path.Combine(dir, shard);
            if (!File.Exists(shardPath))
            {
                throw new SafetensorsFormatException(indexPath, "weight_map", $"shard '{shard}' does not exist in {dir}");
            }

            AddFile(shardPath, byShard[shard]);
        }
    }

    private void AddFile(string path, List<string>? expected)
    {
        var file = SafetensorsFile.Open(path);
        _files.Add(file);
        foreach (var name in expected ?? file.Tensors.Select(t => t.Name))
        {
            if (!file.TryGetTensor(name, out var info))
            {
                throw new SafetensorsFormatException(path, name, "listed in the index but missing from this shard");
            }

            if (!_tensors.TryAdd(name, (file, info)))
            {
                throw new SafetensorsFormatException(path, name, "tensor appears in more than one shard");
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
