namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// The scalar helpers of ggml's K-quant reference quantizers (ggml-quants.c: <c>nearest_int</c>,
/// <c>make_qx_quants</c>, <c>make_q3_quants</c>, <c>make_qkx2_quants</c>), transcribed with ggml's float
/// operations in ggml's order: every product, sum and division is a single-precision operation, evaluated
/// left to right as C does, with no fused multiply-add (libggml-base is built for baseline x86-64). That is
/// what makes our blocks byte-identical to llama-quantize's; do not "simplify" the arithmetic.
/// </summary>
internal static class KQuantMath
{
    /// <summary>ggml's GROUP_MAX_EPS: a group whose largest |x| is below this is all zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// ggml <c>nearest_int</c>: adding 1.5·2²³ leaves round-half-to-even of <paramref name="f"/> in the low
    /// mantissa bits. Kept bit-for-bit (not Math.Round) because for NaN/±inf, which degenerate groups of
    /// subnormals produce, it yields ggml's garbage values, which are then clamped the same way.
    /// </summary>
    public static int NearestInt(float f)
    {
        var v = f + 12582912f;
        return (BitConverter.SingleToInt32Bits(v) & 0x007FFFFF) - 0x00400000;
    }

    /// <summary>
    /// ggml <c>make_qx_quants</c> with rmse_type 1 and no importance weights (w = x²), as
    /// <c>quantize_row_q6_K_ref</c> calls it: a symmetric scale, refined over 18 trial scales
    /// −(nmax + 0.1·is)/max, keeping the one with the best weighted least-squares fit. L gets q + nmax.
    /// </summary>
    public static float MakeQxQuants(int nmax, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        var n = x.Length;
        float max = 0, amax = 0;
        for (var i = 0; i < n; i++)
        {
            var ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }

        if (amax < GroupMaxEps)
        {
            L[..n].Clear();
            return 0f;
        }

        var iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (sbyte)(l + nmax);
            var w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }

        var scale = suml2 != 0 ? sumlx / suml2 : 0f;
        var best = scale * sumlx;
        for (var step = -9; step <= 9; step++)
        {
            if (step == 0)
            {
                continue;
            }

            iscale = -(nmax + (0.1f * step)) / max;
            sumlx = suml2 = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                var w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }

            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (var i = 0; i < n; i++)
                {
                    L[i] = (sbyte)(nmax + Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
                }

                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }

        return scale;
    }

    /// <summary>
    /// ggml <c>make_q3_quants</c> with do_rmse (as <c>quantize_row_q3_K_ref</c> calls it): a symmetric scale,
    /// then up to five passes that move single quants when that improves the x²-weighted fit. L gets q + nmax.
    /// </summary>
    public static float MakeQ3Quants(int nmax, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        var n = x.Length;
        float max = 0, amax = 0;
        for (var i = 0; i < n; i++)
        {
            var ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }

        if (amax < GroupMaxEps)
        {
            L[..n].Clear();
            return 0f;
        }

        var iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (sbyte)l;
            var w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }

        for (var itry = 0; itry < 5; itry++)
        {
            var changed = 0;
            for (var i = 0; i < n; i++)
            {
                var w = x[i] * x[i];
                var slx = sumlx - (w * x[i] * L[i]);
                if (slx > 0)
                {
                    var sl2 = suml2 - (w * L[i] * L[i]);
                    var newL = Math.Clamp(NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                    if (newL != L[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            L[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }

            if (changed == 0)
            {
                break;
            }
        }

        for (var i = 0; i < n; i++)
        {
            L[i] += (sbyte)nmax;
        }

        return suml2 > 0 ? sumlx / suml2 : 0f;
    }

    /// <summary>
    /// ggml <c>make_qkx2_quants</c>: an asymmetric fit x ≈ scale·L − min (0 ≤ L ≤ nmax, min ≥ 0 returned
    /// in <paramref name="theMin"/>), trying nstep + 1 scales (rmin + rdelta·is + nmax)/(max − min) and solving
    /// the weighted least squares for scale and min at each; the fit with the least weighted error
    /// (absolute with <paramref name="useMad"/>, squared otherwise) wins.
    /// </summary>
    public static float MakeQkx2Quants(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> L, out float theMin,
        Span<byte> laux, float rmin, float rdelta, int nstep, bool useMad)
    {
        var n = x.Length;
        var min = x[0];
        var max = x[0];
        var sumW = weights[0];
        var sumX = sumW * x[0];
        for (var i = 1; i < n; i++)
        {
            if (x[i] < min)
            {
                min = x[i];
            }

            if (x[i] > max)
            {
                max = x[i];
            }

            var w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }

        if (min > 0)
        {
            min = 0;
        }

        if (max == min)
        {
            L[..n].Clear();
            theMin = -min;
            return 0f;
        }

        var iscale = nmax / (max - min);
        var scale = 1 / iscale;
        float bestError = 0;
        for (var i = 0; i < n; i++)
        {
            L[i] = (byte)Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            var diff = (scale * L[i]) + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }

        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }

        for (var step = 0; step <= nstep; step++)
        {
            iscale = (rmin + (rdelta * step) + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                laux[i] = (byte)l;
                var w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[i];
            }

            var D = (sumW * sumL2) - (sumL * sumL);
            if (D > 0)
            {
                var thisScale = ((sumW * sumXl) - (sumX * sumL)) / D;
                var thisMin = ((sumL2 * sumX) - (sumL * sumXl)) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }

                float error = 0;
                for (var i = 0; i < n; i++)
                {
                    var diff = (thisScale * laux[i]) + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    error += weights[i] * diff;
                }

                if (error < bestError)
                {
                    laux[..n].CopyTo(L);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }

        theMin = -min;
        return scale;
    }
}
