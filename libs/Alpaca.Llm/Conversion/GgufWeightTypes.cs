using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// Which ggml type each LLaMA tensor gets when a model is written as GGUF of a requested type, following
/// llama.cpp's converter: 1-D tensors (the RMSNorm gains) stay F32; 2-D weights take the requested type,
/// except that a row whose length is not a whole number of quant blocks falls back to F16.
/// </summary>
public static class GgufWeightTypes
{
    public static GgmlType Choose(string ggufName, ReadOnlySpan<long> shape, GgmlType requested)
    {
        if (shape.Length < 2 || LlamaTensorNames.IsNorm(ggufName))
        {
            return GgmlType.F32;
        }

        return shape[0] % GgmlTypeInfo.Of(requested).BlockSize == 0 ? requested : GgmlType.F16;
    }

    /// <summary><c>general.file_type</c> (llama_ftype) for a model whose 2-D weights are mostly <paramref name="type"/>.</summary>
    public static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q8_0 => 7,
        GgmlType.BF16 => 32,
        _ => throw new NotSupportedException($"No llama file type for {type}."),
    };

    /// <summary>Parses a CLI type name: f32, f16, bf16, q8_0, q4_0 (case-insensitive).</summary>
    public static GgmlType Parse(string name) => name.ToLowerInvariant() switch
    {
        "f32" => GgmlType.F32,
        "f16" => GgmlType.F16,
        "bf16" => GgmlType.BF16,
        "q8_0" => GgmlType.Q8_0,
        "q4_0" => GgmlType.Q4_0,
        _ => throw new ArgumentException($"Unknown weight type '{name}' (use f32, f16, bf16, q8_0 or q4_0)."),
    };
}
