namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q2_K decoding (ggml <c>dequantize_row_q2_K</c>): super-blocks of 256 weights in 84 bytes =
/// 16 bytes of sub-block scale (low nibble) and min (high nibble) for 16 sub-blocks of 16, 64 bytes of
/// 2-bit quants, fp16 d, fp16 dmin. Value = d·scale·q − dmin·min.
/// </summary>
internal static class Q2_KCodec
{
    public const int BlockSize = 256;
    public const int BlockBytes = 84;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0, nb = dst.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockBytes, BlockBytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var d = HalfConverter.ReadHalf(x[80..]);
            var dmin = HalfConverter.ReadHalf(x[82..]);
            var o = 0;
            var sub = 0;
            for (var half = 0; half < 2; half++)
            {
                var q = x.Slice(16 + (half * 32), 32);
                for (var shift = 0; shift < 8; shift += 2)
                {
                    for (var part = 0; part < 2; part++)
                    {
                        var sc = x[sub++];
                        float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
                        for (var l = 16 * part; l < 16 * (part + 1); l++)
                        {
                            y[o++] = (dl * ((q[l] >> shift) & 3)) - ml;
                        }
                    }
                }
            }
        }
    }
}
