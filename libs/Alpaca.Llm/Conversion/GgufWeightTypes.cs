using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// Single weight types by CLI name and their llama file types. Which type each tensor gets (norms F32,
/// fallbacks, mixtures) is <see cref="WeightRecipe"/>'s business.
/// </summary>
public static class GgufWeightTypes
{
    /// <summary><c>general.file_type</c> (llama_ftype) for a model whose 2-D weights are mostly <paramref name="type"/>.</summary>
    public static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q8_0 => 7,
        GgmlType.Q2_K => 10,
        GgmlType.Q3_K => 11, // LLAMA_FTYPE_MOSTLY_Q3_K_S
        GgmlType.Q4_K => 14, // LLAMA_FTYPE_MOSTLY_Q4_K_S
        GgmlType.Q5_K => 16, // LLAMA_FTYPE_MOSTLY_Q5_K_S
        GgmlType.Q6_K => 18,
        GgmlType.BF16 => 32,
        _ => throw new NotSupportedException($"No llama file type for {type}."),
    };

    /// <summary>Parses a single-type CLI name: f32, f16, bf16, q8_0, q4_0, q2_k … q6_k (case-insensitive).</summary>
    public static GgmlType Parse(string name) => name.ToLowerInvariant() switch
    {
        "f32" => GgmlType.F32,
        "f16" => GgmlType.F16,
        "bf16" => GgmlType.BF16,
        "q8_0" => GgmlType.Q8_0,
        "q4_0" => GgmlType.Q4_0,
        "q2_k" => GgmlType.Q2_K,
        "q3_k" => GgmlType.Q3_K,
        "q4_k" => GgmlType.Q4_K,
        "q5_k" => GgmlType.Q5_K,
        "q6_k" => GgmlType.Q6_K,
        _ => throw new ArgumentException($"Unknown weight type '{name}' (use {string.Join(", ", WeightRecipe.Names)})."),
    };
}
