using System.Runtime.InteropServices;
using Alpaca.Llm.Tensors.Codecs;

namespace Alpaca.Llm.Tensors;

/// <summary>
/// Plain scalar reference row codecs between float and the ggml weight types, bit-exact with ggml's
/// reference quantizers (<c>quantize_row_q8_0_ref</c>, <c>quantize_row_q4_0_ref</c>, <c>quantize_row_q2_K_ref</c> …
/// <c>quantize_row_q6_K_ref</c>) and dequantizers.
/// These are the ground truth for tests and for conversion; fast kernels live elsewhere.
/// Byte layouts are little-endian, as in GGUF (this library assumes a little-endian host).
/// </summary>
public static class Quantizer
{
    /// <summary>Encodes <paramref name="src"/> (a whole number of blocks) into <paramref name="dst"/> of exactly <c>RowBytes(type, src.Length)</c> bytes.</summary>
    public static void Quantize(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckSizes(type, src.Length, dst.Length);
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.AsBytes(src).CopyTo(dst);
                break;
            case GgmlType.F16:
                HalfConverter.FloatToHalf(src, HalfConverter.AsUInt16(dst));
                break;
            case GgmlType.BF16:
                HalfConverter.FloatToBf16(src, HalfConverter.AsUInt16(dst));
                break;
            case GgmlType.Q8_0:
                Q8_0Codec.Quantize(src, dst);
                break;
            case GgmlType.Q4_0:
                Q4_0Codec.Quantize(src, dst);
                break;
            case GgmlType.Q4_K:
                Q4_KEncoder.Quantize(src, dst);
                break;
            case GgmlType.Q5_K:
                Q5_KEncoder.Quantize(src, dst);
                break;
            case GgmlType.Q6_K:
                Q6_KEncoder.Quantize(src, dst);
                break;
            case GgmlType.Q3_K:
                Q3_KEncoder.Quantize(src, dst);
                break;
            case GgmlType.Q2_K:
                Q2_KEncoder.Quantize(src, dst);
                break;
            default:
                throw new NotSupportedException($"Quantizing to {type} is not implemented (supported: F32, F16, BF16, Q8_0, Q4_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K).");
        }
    }

    /// <summary>Decodes <paramref name="src"/> (exactly <c>RowBytes(type, dst.Length)</c> bytes) into floats.</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        CheckSizes(type, dst.Length, src.Length);
        switch (type)
        {
            case GgmlType.F32:
                src.CopyTo(MemoryMarshal.AsBytes(dst));
                break;
            case GgmlType.F16:
                HalfConverter.HalfToFloat(HalfConverter.AsUInt16(src), dst);
                break;
            case GgmlType.BF16:
                HalfConverter.Bf16ToFloat(HalfConverter.AsUInt16(src), dst);
                break;
            case GgmlType.Q8_0:
                Q8_0Codec.Dequantize(src, dst);
                break;
            case GgmlType.Q4_0:
                Q4_0Codec.Dequantize(src, dst);
                break;
            case GgmlType.Q4_K:
                Q4_KCodec.Dequantize(src, dst);
                break;
            case GgmlType.Q6_K:
                Q6_KCodec.Dequantize(src, dst);
                break;
            case GgmlType.Q5_K:
                Q5_KCodec.Dequantize(src, dst);
                break;
            case GgmlType.Q3_K:
                Q3_KCodec.Dequantize(src, dst);
                break;
            case GgmlType.Q2_K:
                Q2_KCodec.Dequantize(src, dst);
                break;
            default:
                throw new NotSupportedException($"Dequantizing {type} is not implemented (supported: F32, F16, BF16, Q8_0, Q4_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K).");
        }
    }

    /// <summary>Convenience: quantizes a whole row into a new array.</summary>
    public static byte[] Quantize(GgmlType type, ReadOnlySpan<float> src)
    {
        var dst = new byte[GgmlTypeInfo.RowBytes(type, src.Length)];
        Quantize(type, src, dst);
        return dst;
    }

    /// <summary>Convenience: dequantizes <paramref name="count"/> elements into a new array.</summary>
    public static float[] Dequantize(GgmlType type, ReadOnlySpan<byte> src, int count)
    {
        var dst = new float[count];
        Dequantize(type, src, dst);
        return dst;
    }

    private static void CheckSizes(GgmlType type, int elements, int bytes)
    {
        var info = GgmlTypeInfo.Of(type);
        if (elements % info.BlockSize != 0)
        {
            throw new ArgumentException($"{type} works on whole blocks of {info.BlockSize} elements; got {elements} elements.");
        }

        var expected = (long)elements / info.BlockSize * info.BytesPerBlock;
        if (expected != bytes)
        {
            throw new ArgumentException($"{elements} {type} elements take {expected} bytes, but the byte buffer has {bytes}.");
        }
    }
}
