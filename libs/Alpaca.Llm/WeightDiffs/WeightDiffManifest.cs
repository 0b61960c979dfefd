using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Llm.IO;
using Alpaca.Llm.Safetensors;

namespace Alpaca.Llm.WeightDiffs;

/// <summary>One tensor's record in <c>weight_diff.json</c>.</summary>
internal sealed record DiffTensor(string Name, string Shard, SafetensorsDType DType, long[] Shape, string BaseSha256, string TunedSha256, long Exceptions);

/// <summary>
/// <c>weight_diff.json</c> beside the diff's shards: every tensor's dtype, shape, shard, the SHA-256 of its base and
/// tuned bytes and its number of exact-recovery exceptions, plus the whole model's SHA-256 and the reference-style
/// parameter sum (weight_diff.py's naive integrity check). Recovery reads it first and trusts nothing else.
/// </summary>
internal sealed class WeightDiffManifest
{
    public const string Format = "alpaca-weight-diff/1";

    public required List<DiffTensor> Tensors { get; init; }

    public required string TunedSha256 { get; init; }

    public required double TunedSum { get; init; }

    public bool HasIndex { get; init; }

    public void Write(string path)
    {
        var tensors = new JsonObject();
        foreach (var t in Tensors)
        {
            tensors[t.Name] = new JsonObject
            {
                ["shard"] = t.Shard,
                ["dtype"] = SafetensorsDTypes.Name(t.DType),
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["base_sha256"] = t.BaseSha256,
                ["tuned_sha256"] = t.TunedSha256,
                ["exceptions"] = t.Exceptions,
            };
        }

        var root = new JsonObject
        {
            ["format"] = Format,
            ["operation"] = "diff = tuned - base per element in the tensor's dtype (float32 arithmetic, rounded to nearest even); tuned = base + diff, then the exceptions",
            ["tuned_sha256"] = TunedSha256,
            // The round-trip format "R" keeps the double exact; JSON numbers could lose it in other readers.
            ["tuned_sum"] = TunedSum.ToString("R", CultureInfo.InvariantCulture),
            ["has_index"] = HasIndex,
            ["tensors"] = tensors,
        };
        DurableFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static WeightDiffManifest Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: not a weight diff written by `alpaca weights diff`.", path);
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            if ((string?)root["format"] != Format)
            {
                throw new InvalidDataException($"{path}: format is '{root["format"]}', expected '{Format}'.");
            }

            var tensors = new List<DiffTensor>();
            foreach (var (name, node) in root["tensors"]!.AsObject())
            {
                var o = node!.AsObject();
                var dtypeName = (string)o["dtype"]!;
                if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
                {
                    throw new InvalidDataException($"{path}: tensor '{name}' has unknown dtype '{dtypeName}'.");
                }

                var shard = (string)o["shard"]!;
                if (shard != Path.GetFileName(shard) || shard is "." or "..")
                {
                    throw new InvalidDataException($"{path}: tensor '{name}' names shard '{shard}', not a file name beside the manifest.");
                }

                tensors.Add(new DiffTensor(name, shard, dtype, o["shape"]!.AsArray().Select(d => (long)d!).ToArray(),
                    (string)o["base_sha256"]!, (string)o["tuned_sha256"]!, (long)o["exceptions"]!));
            }

            return new WeightDiffManifest
            {
                Tensors = tensors,
                TunedSha256 = (string)root["tuned_sha256"]!,
                TunedSum = double.Parse((string)root["tuned_sum"]!, CultureInfo.InvariantCulture),
                HasIndex = (bool?)root["has_index"] ?? false,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a valid weight-diff manifest ({e.Message}).");
        }
    }

    /// <summary>SHA-256 over "name sha256\n" lines in tensor order: the whole model's identity.</summary>
    public static string ModelSha256(IEnumerable<(string Name, string Sha256)> tensors)
    {
        var text = string.Concat(tensors.Select(t => t.Name + " " + t.Sha256 + "\n"));
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }
}
