using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Checkpoints;

/// <summary>
/// Reads Hugging Face weights into name → tensor dictionaries: one <c>model.safetensors</c>, or the
/// shards listed by <c>model.safetensors.index.json</c>. TorchSharp.PyBridge parses the files; this
/// class finds them and turns failures into errors that name the file.
/// </summary>
public static class SafetensorsReader
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    public static Dictionary<string, Tensor> ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Weights file not found: {path}", path);
        }

        try
        {
            return Safetensors.LoadStateDict(path);
        }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a readable safetensors file ({e.Message}).", e);
        }
    }

    /// <summary>All weights of an HF checkpoint folder, sharded or not.</summary>
    public static Dictionary<string, Tensor> ReadCheckpoint(string folder)
    {
        var single = Path.Combine(folder, SingleFile);
        if (File.Exists(single))
        {
            return ReadFile(single);
        }

        var index = Path.Combine(folder, IndexFile);
        if (!File.Exists(index))
        {
            var hint = File.Exists(Path.Combine(folder, "pytorch_model.bin")) ? " (it has pytorch_model.bin; convert it to safetensors first)" : string.Empty;
            throw new FileNotFoundException($"{folder}: neither {SingleFile} nor {IndexFile} found{hint}.");
        }

        JsonObject weightMap;
        try
        {
            weightMap = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject
                ?? throw new InvalidDataException($"{index}: missing object 'weight_map'.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{index}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var shard in weightMap.Select(kv => kv.Value?.GetValue<string>()).Distinct())
        {
            if (string.IsNullOrEmpty(shard))
            {
                throw new InvalidDataException($"{index}: 'weight_map' has an empty shard name.");
            }

            foreach (var (name, tensor) in ReadFile(Path.Combine(folder, shard)))
            {
                result[name] = tensor;
            }
        }

        return result;
    }
}
