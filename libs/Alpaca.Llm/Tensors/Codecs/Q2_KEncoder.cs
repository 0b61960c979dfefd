namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q2_K encoding, byte-identical to ggml's <c>quantize_row_q2_K_ref</c>: 16-weight sub-blocks fitted with
/// <c>make_qkx2_quants</c> (nmax 3, weights |x|, absolute error, 16 trial scales), 4-bit scales and mins
/// against fp16 d and dmin, every weight requantized to 0..3 and packed as <see cref="Q2_KCodec"/> reads it.
/// </summary>
internal static class Q2_KEncoder
{
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> L = stackalloc byte[256];
        Span<byte> laux = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        const float q4scale = 15f;
        for (int b = 0, nb = src.Length / Q2_KCodec.BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * Q2_KCodec.BlockSize, Q2_KCodec.BlockSize);
            var y = dst.Slice(b * Q2_KCodec.BlockBytes, Q2_KCodec.BlockBytes);
            var sc = y[..16];
            float maxScale = 0, maxMin = 0;
            for (var j = 0; j < 16; j++)
            {
                var xs = x.Slice(16 * j, 16);
                for (var l = 0; l < 16; l++)
                {
                    weights[l] = MathF.Abs(xs[l]);
                }

                scales[j] = KQuantMath.MakeQkx2Quants(3, xs, weights, L.Slice(16 * j, 16), out mins[j], laux, -0.5f, 0.1f, 15, true);
                maxScale = scales[j] > maxScale ? scales[j] : maxScale;
                maxMin = mins[j] > maxMin ? mins[j] : maxMin;
            }

            sc.Clear();
            if (maxScale > 0)
            {
                var iscale = q4scale / maxScale;
                for (var j = 0; j < 16; j++)
                {
                    sc[j] = unchecked((byte)KQuantMath.NearestInt(iscale * scales[j]));
                }
            }

            HalfConverter.WriteHalf(y[80..], maxScale > 0 ? maxScale / q4scale : 0f);
            if (maxMin > 0)
            {
                var iscale = q4scale / maxMin;
                for (var j = 0; j < 16; j++)
                {
                    sc[j] |= unchecked((byte)(KQuantMath.NearestInt(iscale * mins[j]) << 4));
                }
            }

            HalfConverter.WriteHalf(y[82..], maxMin > 0 ? maxMin / q4scale : 0f);
            var d = HalfConverter.ReadHalf(y[80..]);
            var dmin = HalfConverter.ReadHalf(y[82..]);
            for (var j = 0; j < 16; j++)
            {
                var dj = d * (sc[j] & 0xF);
                if (dj == 0)
                {
                    continue;
                }

                var dm = dmin * (sc[j] >> 4);
                for (var ii = 0; ii < 16; ii++)
                {
                    L[(16 * j) + ii] = (byte)Math.Clamp(KQuantMath.NearestInt((x[(16 * j) + ii] + dm) / dj), 0, 3);
                }
            }

            K2BitPacking.Pack(L, y.Slice(16, 64));
        }
    }
}
