using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// What <c>alpaca convert --type</c> asks for: one ggml type for every 2-D weight (f32, f16, bf16, q8_0, q4_0,
/// q2_k … q6_k), or one of llama.cpp's mixtures (q4_k_m, q5_k_m) whose per-tensor types follow
/// <see cref="LlamaQuantMixture"/>. 1-D tensors (norm gains, rope_freqs) always stay F32, as in llama.cpp.
/// </summary>
public sealed record WeightRecipe(string Name, GgmlType Type, bool IsMixture)
{
    /// <summary>The names --type accepts.</summary>
    public static readonly string[] Names = ["f32", "f16", "bf16", "q8_0", "q4_0", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_k_m", "q5_k_m"];

    public static WeightRecipe Single(GgmlType type) => new(type.ToString(), type, false);

    /// <summary>Parses a --type name (case-insensitive).</summary>
    public static WeightRecipe Parse(string name) => name.ToLowerInvariant() switch
    {
        "q4_k_m" => new("Q4_K_M", GgmlType.Q4_K, true),
        "q5_k_m" => new("Q5_K_M", GgmlType.Q5_K, true),
        var single => Single(GgufWeightTypes.Parse(single)),
    };

    /// <summary>The type of one tensor, given its GGUF name and ne shape.</summary>
    public GgmlType TypeOf(string ggufName, ReadOnlySpan<long> shape, LlamaConfig config)
    {
        if (shape.Length < 2 || LlamaTensorNames.IsNorm(ggufName))
        {
            return GgmlType.F32;
        }

        return IsMixture ? LlamaQuantMixture.TypeOf(ggufName, shape[0], Type, config) : Fallback(Type, shape[0]);
    }

    /// <summary><c>general.file_type</c> (llama_ftype): the mixture's own id; a single K type as llama.cpp's _S variant.</summary>
    public uint FileType => Name switch
    {
        "Q4_K_M" => 15,
        "Q5_K_M" => 17,
        _ => GgufWeightTypes.FileType(Type),
    };

    /// <summary>The mixture's name for a <c>general.file_type</c> (15 Q4_K_M, 17 Q5_K_M, as llama_ftype), else null.</summary>
    public static string? MixtureOf(long? fileType) => fileType switch
    {
        15 => "Q4_K_M",
        17 => "Q5_K_M",
        _ => null,
    };

    /// <summary>
    /// The type a tensor gets when its rows are not whole blocks of <paramref name="type"/> (llama-quant.cpp's
    /// <c>convert_incompatible_tensor</c>). llama.cpp falls back Q6_K → Q8_0, Q4_K → Q5_0, Q5_K → Q5_1 and
    /// Q2_K/Q3_K → IQ4_NL; we have no Q5_0/Q5_1/IQ4_NL engine kernels, so Q4_K and Q5_K go to Q8_0 (more bits,
    /// never fewer) and Q2_K/Q3_K to Q4_0 (IQ4_NL's size). Rows that are not whole 32-blocks either are F16,
    /// as in llama.cpp and as our Q8_0/Q4_0 conversions always did.
    /// </summary>
    public static GgmlType Fallback(GgmlType type, long rowLength)
    {
        if (rowLength % GgmlTypeInfo.Of(type).BlockSize == 0)
        {
            return type;
        }

        var next = type switch
        {
            GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_0,
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q4_0,
            _ => GgmlType.F16,
        };
        return rowLength % GgmlTypeInfo.Of(next).BlockSize == 0 ? next : GgmlType.F16;
    }

    public override string ToString() => Name;
}
