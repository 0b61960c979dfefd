using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Benchmarking;

/// <summary>
/// Random-weight GGUF files of the shapes llama.cpp was measured on (docs/inference-engine.md):
/// stories15M, stories110M, tinyllama-1.1B, every 2-D weight in one type (llama-quantize --pure) or in
/// one of llama.cpp's K-quant mixtures (q4_k_m, q5_k_m, q6_k: llama-quantize's per-tensor choice, blocks
/// byte-identical to ggml's), N(0, 0.02²) weights, seed 1234, written by the formats library's factory.
/// </summary>
public static class BenchmarkModels
{
    /// <summary>Accepted shape names (aliases of the factory's).</summary>
    public static string Canonical(string shape) => shape.ToLowerInvariant() switch
    {
        "15m" or "stories15m" => "stories15M",
        "110m" or "stories110m" => "stories110M",
        "1.1b" or "tinyllama" or "tinyllama-1.1b" => "tinyllama-1.1B",
        "tiny" => "tiny",
        _ => throw new ArgumentException($"Unknown model shape '{shape}': use 15M, 110M, 1.1B or tiny."),
    };

    public static GgmlType ParseType(string type) => type.ToLowerInvariant() switch
    {
        "f32" => GgmlType.F32,
        "f16" => GgmlType.F16,
        "bf16" => GgmlType.BF16,
        "q8_0" => GgmlType.Q8_0,
        "q4_0" => GgmlType.Q4_0,
        _ => throw new ArgumentException($"Unknown weight type '{type}': use f32, f16, bf16, q8_0, q4_0, q4_k_m, q5_k_m or q6_k."),
    };

    /// <summary>A single type (<see cref="ParseType"/>) or a K-quant file type as llama-quantize names it.</summary>
    public static WeightRecipe ParseRecipe(string type) => type.ToLowerInvariant() switch
    {
        "q4_k_m" or "q5_k_m" or "q6_k" => WeightRecipe.Parse(type),
        _ => WeightRecipe.Single(ParseType(type)),
    };

    /// <summary>The file for SHAPE:TYPE in <paramref name="directory"/>, written first when missing.</summary>
    public static string Ensure(string spec, string directory, Action<string>? log = null)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2)
        {
            throw new ArgumentException($"Model spec '{spec}' must look like SHAPE:TYPE, e.g. 15M:q8_0.");
        }

        var shape = Canonical(parts[0]);
        var recipe = ParseRecipe(parts[1]);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{shape}-{recipe.Name.ToLowerInvariant()}.gguf");
        if (!File.Exists(path))
        {
            log?.Invoke($"writing {path} ...");
            var temp = path + ".partial";
            var spec2 = new TinyModelSpec { Config = TinyModelFactory.Shape(shape), Seed = 1234, InitStd = 0.02f, Name = shape };
            TinyModelFactory.WriteGguf(temp, spec2, recipe);
            File.Move(temp, path, overwrite: true);
        }

        return path;
    }
}
