namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q6_K encoding, byte-identical to ggml's <c>quantize_row_q6_K_ref</c>: each 16-weight sub-block gets a
/// symmetric scale from <c>make_qx_quants</c> (nmax 32), the scales become int8 against d = max_scale / −128,
/// and every weight is requantized to 6 bits against its rounded scale. Packing as <see cref="Q6_KCodec"/> reads it.
/// </summary>
internal static class Q6_KEncoder
{
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<sbyte> L = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        for (int b = 0, nb = src.Length / Q6_KCodec.BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * Q6_KCodec.BlockSize, Q6_KCodec.BlockSize);
            var y = dst.Slice(b * Q6_KCodec.BlockBytes, Q6_KCodec.BlockBytes);
            float maxScale = 0, maxAbsScale = 0;
            for (var ib = 0; ib < 16; ib++)
            {
                var scale = KQuantMath.MakeQxQuants(32, x.Slice(16 * ib, 16), L.Slice(16 * ib, 16));
                scales[ib] = scale;
                if (MathF.Abs(scale) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scale);
                    maxScale = scale;
                }
            }

            if (maxAbsScale < KQuantMath.GroupMaxEps)
            {
                y.Clear(); // an all-zero block (d = +0)
                continue;
            }

            var iscale = -128f / maxScale;
            var sc = y.Slice(192, 16);
            HalfConverter.WriteHalf(y[208..], 1 / iscale);
            for (var ib = 0; ib < 16; ib++)
            {
                sc[ib] = unchecked((byte)(sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * scales[ib])));
            }

            var d = HalfConverter.ReadHalf(y[208..]);
            for (var j = 0; j < 16; j++)
            {
                var dj = d * (sbyte)sc[j];
                if (dj == 0)
                {
                    continue; // ggml keeps make_qx_quants' quants for this sub-block
                }

                for (var ii = 0; ii < 16; ii++)
                {
                    L[(16 * j) + ii] = (sbyte)(Math.Clamp(KQuantMath.NearestInt(x[(16 * j) + ii] / dj), -32, 31) + 32);
                }
            }

            for (var half = 0; half < 2; half++)
            {
                var ql = y.Slice(64 * half, 64);
                var qh = y.Slice(128 + (32 * half), 32);
                var o = 128 * half;
                for (var l = 0; l < 32; l++)
                {
                    int q1 = L[o + l], q2 = L[o + l + 32], q3 = L[o + l + 64], q4 = L[o + l + 96];
                    ql[l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                    ql[l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                    qh[l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
        }
    }
}
