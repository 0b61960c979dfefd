using System.Runtime.InteropServices;

namespace Alpaca.Llm.Tensors;

/// <summary>
/// IEEE fp16 and bfloat16 conversions with ggml's rounding: float → fp16 rounds to nearest even
/// (what F16C's <c>vcvtps2ph</c> with mode 0 and ggml's scalar fallback both do), float → bf16 rounds
/// to nearest even and turns NaN into a quiet NaN (<c>ggml_compute_fp32_to_bf16</c>). Widening is exact.
/// </summary>
public static class HalfConverter
{
    public static ushort FloatToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static float HalfToFloat(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    public static ushort FloatToBf16(float value)
    {
        var u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffffu) > 0x7f800000u)
        {
            return (ushort)((u >> 16) | 64); // NaN: keep sign and payload top, force quiet
        }

        return (ushort)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
    }

    public static float Bf16ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static void FloatToHalf(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        CheckLengths(src.Length, dst.Length);
        for (var i = 0; i < src.Length; i++)
        {
            dst[i] = FloatToHalf(src[i]);
        }
    }

    public static void HalfToFloat(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        CheckLengths(src.Length, dst.Length);
        for (var i = 0; i < src.Length; i++)
        {
            dst[i] = HalfToFloat(src[i]);
        }
    }

    public static void FloatToBf16(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        CheckLengths(src.Length, dst.Length);
        for (var i = 0; i < src.Length; i++)
        {
            dst[i] = FloatToBf16(src[i]);
        }
    }

    public static void Bf16ToFloat(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        CheckLengths(src.Length, dst.Length);
        for (var i = 0; i < src.Length; i++)
        {
            dst[i] = Bf16ToFloat(src[i]);
        }
    }

    /// <summary>Reads a little-endian fp16 at <paramref name="bytes"/>[0..2].</summary>
    internal static float ReadHalf(ReadOnlySpan<byte> bytes) =>
        HalfToFloat((ushort)(bytes[0] | (bytes[1] << 8)));

    internal static void WriteHalf(Span<byte> bytes, float value)
    {
        var h = FloatToHalf(value);
        bytes[0] = (byte)h;
        bytes[1] = (byte)(h >> 8);
    }

    internal static Span<ushort> AsUInt16(Span<byte> bytes) => MemoryMarshal.Cast<byte, ushort>(bytes);

    internal static ReadOnlySpan<ushort> AsUInt16(ReadOnlySpan<byte> bytes) => MemoryMarshal.Cast<byte, ushort>(bytes);

    private static void CheckLengths(int src, int dst)
    {
        if (src != dst)
        {
            throw new ArgumentException($"Source has {src} elements but destination has {dst}.");
        }
    }
}
