namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q5_K decoding (ggml <c>dequantize_row_q5_K</c>): super-blocks of 256 weights in 176 bytes =
/// fp16 d, fp16 dmin, 12 bytes of 6-bit sub-block scales/mins (packed as in Q4_K), 32 bytes of fifth
/// bits (qh), 128 bytes of low nibbles. Value = d·scale_j·q − dmin·min_j with q = nibble + 16·bit.
/// The fifth bit of element l of 64-element chunk c is bit 2c of qh[l] (low nibbles) or bit 2c+1 (high).
/// </summary>
internal static class Q5_KCodec
{
    public const int BlockSize = 256;
    public const int BlockBytes = 176;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0, nb = dst.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockBytes, BlockBytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var d = HalfConverter.ReadHalf(x);
            var dmin = HalfConverter.ReadHalf(x[2..]);
            var scales = x.Slice(4, 12);
            var qh = x.Slice(16, 32);
            var ql = x[48..];
            var o = 0;
            for (int chunk = 0, sub = 0; chunk < 4; chunk++, sub += 2)
            {
                K4Scales.Unpack(sub, scales, out var sc1, out var m1);
                K4Scales.Unpack(sub + 1, scales, out var sc2, out var m2);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                var qs = ql.Slice(chunk * 32, 32);
                int u1 = 1 << (2 * chunk), u2 = 2 << (2 * chunk);
                for (var l = 0; l < 32; l++)
                {
                    y[o + l] = (d1 * ((qs[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0))) - min1;
                }

                for (var l = 0; l < 32; l++)
                {
                    y[o + 32 + l] = (d2 * ((qs[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0))) - min2;
                }

                o += 64;
            }
        }
    }
}
