namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q5_K encoding, byte-identical to ggml's <c>quantize_row_q5_K_ref</c>: sub-block fits with nmax 31 and 16
/// trial scales (rmin −0.5, step 0.1); the low nibbles are packed as in Q4_K, the fifth bit of weight
/// 64c + l goes to bit 2c of qh[l] and that of 64c + 32 + l to bit 2c + 1.
/// </summary>
internal static class Q5_KEncoder
{
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> L = stackalloc byte[256];
        for (int b = 0, nb = src.Length / Q5_KCodec.BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * Q5_KCodec.BlockSize, Q5_KCodec.BlockSize);
            var y = dst.Slice(b * Q5_KCodec.BlockBytes, Q5_KCodec.BlockBytes);
            KScaleMinFit.Fit(x, 31, -0.5f, 0.1f, 15, y, L);
            var qh = y.Slice(16, 32);
            var ql = y[48..];
            qh.Clear();
            for (var chunk = 0; chunk < 4; chunk++)
            {
                byte m1 = (byte)(1 << (2 * chunk)), m2 = (byte)(2 << (2 * chunk));
                for (var j = 0; j < 32; j++)
                {
                    int l1 = L[(64 * chunk) + j], l2 = L[(64 * chunk) + j + 32];
                    if (l1 > 15)
                    {
                        l1 -= 16;
                        qh[j] |= m1;
                    }

                    if (l2 > 15)
                    {
                        l2 -= 16;
                        qh[j] |= m2;
                    }

                    ql[(32 * chunk) + j] = (byte)(l1 | (l2 << 4));
                }
            }
        }
    }
}
