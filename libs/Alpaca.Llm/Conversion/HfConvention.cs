using System.Runtime.InteropServices;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// The two differences between a tensor in a GGUF LLaMA and the same tensor in an HF checkpoint besides
/// its name: the shape is reversed (ne vs row-major) and Wq/Wk rows are in a different order.
/// Data layout is otherwise identical (row-major, rows = output features).
/// </summary>
internal static class HfConvention
{
    /// <summary>GGUF values → HF values (inverse Q/K permutation), same flat row-major order otherwise.</summary>
    public static float[] FromGguf(string ggufName, float[] values, long[] ne, LlamaConfig config) =>
        HeadsForPermutation(ggufName, config) is { } heads
            ? QkPermutation.GgufToHf(values, heads, (int)ne[0])
            : values;

    /// <summary>HF values → GGUF values (the converter's Q/K permutation).</summary>
    public static float[] ToGguf(string ggufName, float[] values, long[] ne, LlamaConfig config) =>
        HeadsForPermutation(ggufName, config) is { } heads
            ? QkPermutation.HfToGguf(values, heads, (int)ne[0])
            : values;

    /// <summary>n_head for Wq, n_kv_head for Wk, null for every other tensor.</summary>
    public static int? HeadsForPermutation(string ggufName, LlamaConfig config) =>
        ggufName.EndsWith(".attn_q.weight", StringComparison.Ordinal) ? config.NHeads
        : ggufName.EndsWith(".attn_k.weight", StringComparison.Ordinal) ? config.NKvHeads
        : null;

    public static void WriteFloats(Stream stream, float[] values, SafetensorsDType dtype)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
                break;
            case SafetensorsDType.F16:
            case SafetensorsDType.BF16:
                var half = new ushort[values.Length];
                if (dtype == SafetensorsDType.F16)
                {
                    HalfConverter.FloatToHalf(values, half);
                }
                else
                {
                    HalfConverter.FloatToBf16(values, half);
                }

                stream.Write(MemoryMarshal.AsBytes(half.AsSpan()));
                break;
            default:
                throw new NotSupportedException($"Writing HF weights as {dtype} is not supported (F32, F16, BF16).");
        }
    }
}
