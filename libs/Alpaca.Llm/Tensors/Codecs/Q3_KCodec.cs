namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q3_K decoding (ggml <c>dequantize_row_q3_K</c>): super-blocks of 256 weights in 110 bytes =
/// 32 bytes of high bits (hmask), 64 bytes of 2-bit low parts, 12 bytes of 6-bit sub-block scales
/// (16 sub-blocks of 16), fp16 d. Value = d·(scale − 32)·(q − 4·(1 − high bit)), q the 2-bit part.
/// </summary>
internal static class Q3_KCodec
{
    public const int BlockSize = 256;
    public const int BlockBytes = 110;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Span<int> scales = stackalloc int[16];
        for (int b = 0, nb = dst.Length / BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * BlockBytes, BlockBytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var hm = x[..32];
            var d = HalfConverter.ReadHalf(x[108..]);
            Scales(x.Slice(96, 12), scales);
            var o = 0;
            var m = 1;
            var sub = 0;
            for (var half = 0; half < 2; half++)
            {
                var q = x.Slice(32 + (half * 32), 32);
                for (int j = 0, shift = 0; j < 4; j++, shift += 2, m <<= 1)
                {
                    for (var part = 0; part < 2; part++)
                    {
                        var dl = d * (scales[sub++] - 32);
                        for (var l = 16 * part; l < 16 * (part + 1); l++)
                        {
                            y[o++] = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The 16 six-bit scales (ggml's kmask shuffle of the 12 bytes): the low 4 bits of scale i are the low
    /// nibble of byte i (i &lt; 8) or the high nibble of byte i − 8; the top 2 bits are bits 2·(i / 4)..+1 of byte 8 + i % 4.
    /// </summary>
    internal static void Scales(ReadOnlySpan<byte> s, Span<int> scales)
    {
        for (var i = 0; i < 16; i++)
        {
            var low = i < 8 ? s[i] & 0xF : s[i - 8] >> 4;
            var high = (s[8 + (i % 4)] >> (2 * (i / 4))) & 3;
            scales[i] = low | (high << 4);
        }
    }
}
