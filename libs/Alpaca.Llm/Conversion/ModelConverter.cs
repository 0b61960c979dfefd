using System.Diagnostics;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// Picks the conversion from the two paths: an HF folder (or its index/safetensors file) → a .gguf file;
/// a .gguf file → a folder (HF) or another .gguf file (re-encoding). This is what <c>alpaca convert</c> runs.
/// </summary>
public static class ModelConverter
{
    public static ConversionReport Convert(string from, string to, string type, string? vocabularyPath = null, long maxShardBytes = 5_000_000_000, Action<string>? log = null)
    {
        var fromGguf = File.Exists(from) && from.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
        var toGguf = to.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
        if (!fromGguf && !Directory.Exists(from))
        {
            var folder = File.Exists(from) ? Path.GetDirectoryName(Path.GetFullPath(from)) : null;
            if (folder is null || !File.Exists(Path.Combine(folder, "config.json")))
            {
                throw new FileNotFoundException($"--from '{from}' is neither a .gguf file nor a Hugging Face model folder.");
            }

            from = folder; // a model.safetensors or index file inside the folder
        }

        if (fromGguf && toGguf)
        {
            return Requantize(from, to, WeightRecipe.Parse(type), log);
        }

        if (fromGguf)
        {
            var dtype = type.ToLowerInvariant() switch
            {
                "f32" => SafetensorsDType.F32,
                "f16" => SafetensorsDType.F16,
                "bf16" => SafetensorsDType.BF16,
                _ => throw new ArgumentException($"--type {type}: a Hugging Face checkpoint holds f32, f16 or bf16 weights."),
            };
            return GgufToHfConverter.Convert(from, to, dtype, maxShardBytes, log);
        }

        if (!toGguf)
        {
            throw new ArgumentException($"--to '{to}': converting an HF folder needs a .gguf destination.");
        }

        return HfToGgufConverter.Convert(from, to, WeightRecipe.Parse(type), vocabularyPath, log);
    }

    /// <summary>GGUF → GGUF in another weight type (decode to float, encode again), metadata kept.</summary>
    public static ConversionReport Requantize(string from, string to, GgmlType type, Action<string>? log = null) =>
        Requantize(from, to, WeightRecipe.Single(type), log);

    /// <summary>GGUF → GGUF with per-tensor types from <paramref name="recipe"/> (e.g. F16 → the Q4_K_M mixture).</summary>
    public static ConversionReport Requantize(string from, string to, WeightRecipe recipe, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        if (Path.GetFullPath(from) == Path.GetFullPath(to))
        {
            throw new ArgumentException("--from and --to are the same file.");
        }

        using var source = GgufFile.Open(from);
        var config = LlamaConfig.FromGguf(source);
        var vocab = LlamaVocabulary.FromGguf(source.Metadata, from)
            ?? throw new InvalidDataException($"{from}: no vocabulary (tokenizer.ggml.tokens).");
        var name = source.Metadata.GetString("general.name") ?? Path.GetFileNameWithoutExtension(from);
        var layout = LlamaGgufWriter.Write(to, config, vocab, recipe, name, (n, _) => source.ReadAsFloat32(source.GetTensor(n)), log);
        return new ConversionReport(from, to, "GGUF -> GGUF", recipe.Name, layout.Count, new FileInfo(to).Length, clock.Elapsed);
    }
}
