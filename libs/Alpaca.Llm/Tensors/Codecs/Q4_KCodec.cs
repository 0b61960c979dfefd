namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q4_K decoding (ggml <c>dequantize_row_q4_K</c>): super-blocks of 256 weights in 144 bytes =
/// fp16 d, fp16 dmin, 12 bytes of packed 6-bit sub-block scales/mins, 128 bytes of nibbles.
/// Value = d·scale_j·q − dmin·min_j. Encoding: <see cref="Q4_KEncoder"/>.
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
                K4Scales.Unpack(sub, scales, out var sc1, out var m1);
                K4Scales.Unpack(sub + 1, scales, out var sc2, out var m2);
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
}
