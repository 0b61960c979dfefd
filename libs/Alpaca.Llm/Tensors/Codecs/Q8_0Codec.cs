namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q8_0: blocks of 32 weights = fp16 scale d + 32 int8 q, value = d·q (34 bytes, 8.5 bits/weight).
/// Quantization follows ggml's <c>quantize_row_q8_0_ref</c>: d = amax/127 in float, the inverse is taken
/// from that unrounded d, q = roundf(x·id) (half away from zero), and only then d is stored as fp16.
/// </summary>
internal static class Q8_0Codec
{
    public const int BlockSize = 32;
    public const int BlockBytes = 34;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0, nb = src.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var y = dst.Slice(b * BlockBytes, BlockBytes);

            var amax = 0f;
            foreach (var v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            var d = amax / 127f;
            var id = d != 0f ? 1f / d : 0f;
            HalfConverter.WriteHalf(y, d);
            for (var j = 0; j < BlockSize; j++)
            {
                y[2 + j] = (byte)X86Int8.Truncate(MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
            }
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0, nb = dst.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockBytes, BlockBytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var d = HalfConverter.ReadHalf(x);
            for (var j = 0; j < BlockSize; j++)
            {
                y[j] = (sbyte)x[2 + j] * d;
            }
        }
    }
}
