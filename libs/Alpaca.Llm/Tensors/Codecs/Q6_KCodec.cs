namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q6_K decoding (ggml <c>dequantize_row_q6_K</c>): super-blocks of 256 weights in 210 bytes =
/// 128 bytes low 4 bits (ql), 64 bytes high 2 bits (qh), 16 int8 sub-block scales, fp16 d.
/// Value = d·scale·(q − 32). Encoding: <see cref="Q6_KEncoder"/>.
/// </summary>
internal static class Q6_KCodec
{
    public const int BlockSize = 256;
    public const int BlockBytes = 210;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0, nb = dst.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockBytes, BlockBytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var d = HalfConverter.ReadHalf(x[208..]);
            for (var half = 0; half < 2; half++)
            {
                var ql = x.Slice(half * 64, 64);
                var qh = x.Slice(128 + (half * 32), 32);
                var sc = x.Slice(192 + (half * 8), 8);
                var yo = y.Slice(half * 128, 128);
                for (var l = 0; l < 32; l++)
                {
                    var iscale = l / 16;
                    var q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    var q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    yo[l] = d * (sbyte)sc[iscale] * q1;
                    yo[l + 32] = d * (sbyte)sc[iscale + 2] * q2;
                    yo[l + 64] = d * (sbyte)sc[iscale + 4] * q3;
                    yo[l + 96] = d * (sbyte)sc[iscale + 6] * q4;
                }
            }
        }
    }
}
