namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// The part of <c>quantize_row_q4_K_ref</c> and <c>quantize_row_q5_K_ref</c> they share: fit each of the eight
/// 32-weight sub-blocks with <c>make_qkx2_quants</c> (weights av_x + |x|), quantize the sub-block scales and
/// mins to 6 bits against fp16 super-block scales d and dmin, and requantize every weight against the
/// rounded scales. Writes d, dmin and the 12 scale bytes (the first 16 bytes of both block layouts) and
/// leaves the quants 0..nmax in <paramref name="L"/>.
/// </summary>
internal static class KScaleMinFit
{
    public static void Fit(ReadOnlySpan<float> x, int nmax, float rmin, float rdelta, int nstep, Span<byte> header, Span<byte> L)
    {
        Span<float> weights = stackalloc float[32];
        Span<byte> laux = stackalloc byte[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (var j = 0; j < 8; j++)
        {
            var xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (var l = 0; l < 32; l++)
            {
                sumX2 += xs[l] * xs[l];
            }

            var avX = MathF.Sqrt(sumX2 / 32);
            for (var l = 0; l < 32; l++)
            {
                weights[l] = avX + MathF.Abs(xs[l]);
            }

            scales[j] = KQuantMath.MakeQkx2Quants(nmax, xs, weights, L.Slice(32 * j, 32), out mins[j], laux, rmin, rdelta, nstep, false);
            if (scales[j] > maxScale)
            {
                maxScale = scales[j];
            }

            if (mins[j] > maxMin)
            {
                maxMin = mins[j];
            }
        }

        var packed = header.Slice(4, 12);
        packed.Clear();
        var invScale = maxScale > 0 ? 63f / maxScale : 0f;
        var invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (var j = 0; j < 8; j++)
        {
            // uint8_t ls = nearest_int(...): C keeps the low byte, then MIN(63, ls).
            var ls = Math.Min(63, (int)unchecked((byte)KQuantMath.NearestInt(invScale * scales[j])));
            var lm = Math.Min(63, (int)unchecked((byte)KQuantMath.NearestInt(invMin * mins[j])));
            K4Scales.Pack(j, ls, lm, packed);
        }

        HalfConverter.WriteHalf(header, maxScale / 63f);
        HalfConverter.WriteHalf(header[2..], maxMin / 63f);
        var d = HalfConverter.ReadHalf(header);
        var dmin = HalfConverter.ReadHalf(header[2..]);
        for (var j = 0; j < 8; j++)
        {
            K4Scales.Unpack(j, packed, out var sc, out var m);
            var dj = d * sc;
            if (dj == 0)
            {
                continue; // ggml keeps make_qkx2_quants' quants for this sub-block
            }

            var dm = dmin * m;
            for (var ii = 0; ii < 32; ii++)
            {
                L[(32 * j) + ii] = (byte)Math.Clamp(KQuantMath.NearestInt((x[(32 * j) + ii] + dm) / dj), 0, nmax);
            }
        }
    }
}
