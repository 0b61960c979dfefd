namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q4_K decoding (ggml <c>dequantize_row_q4_K</c>): super-blocks of 256 weights in 144 bytes =
/// fp16 d, fp16 dmin, 12 bytes of packed 6-bit sub-block scales/mins, 128 bytes of nibbles.
/// Value = d·scale_j·q − dmin·min_j. Decode only, so files quantized by llama.cpp can be read.
/// </summary>
internal static class Q4_KCodec
{
    public const int BlockSize = 256;
    public const int BlockBytes = 144;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0, nb = dst.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockBytes, BlockBytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var d = HalfConverter.ReadHalf(x);
            var dmin = HalfConverter.ReadHalf(x[2..]);
            var scales = x.Slice(4, 12);
            var q = x[16..];
            var o = 0;
            for (int chunk = 0, sub = 0; chunk < 4; chunk++, sub += 2)
            {
                ScaleMin(sub, scales, out var sc1, out var m1);
                ScaleMin(sub + 1, scales, out var sc2, out var m2);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                var qs = q.Slice(chunk * 32, 32);
                for (var l = 0; l < 32; l++)
                {
                    y[o + l] = (d1 * (qs[l] & 0xF)) - min1;
                }

                for (var l = 0; l < 32; l++)
                {
                    y[o + 32 + l] = (d2 * (qs[l] >> 4)) - min2;
                }

                o += 64;
            }
        }
    }

    /// <summary>ggml <c>get_scale_min_k4</c>: unpacks the 6-bit scale and min of sub-block j.</summary>
    internal static void ScaleMin(int j, ReadOnlySpan<byte> s, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = s[j] & 63;
            min = s[j + 4] & 63;
        }
        else
        {
            scale = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
            min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
    }
}
