using System.Runtime.InteropServices;

namespace Alpaca.Llm.Tensors.Codecs;

/// <summary>
/// Q3_K encoding, byte-identical to ggml's <c>quantize_row_q3_K_ref</c>: 16-weight sub-blocks fitted with
/// <c>make_q3_quants</c> (nmax 4), their scales quantized to 6 bits against d = max_scale / −32, every weight
/// requantized to −4..3, then split into the high-bit mask and 2-bit parts that <see cref="Q3_KCodec"/> reads.
/// </summary>
internal static class Q3_KEncoder
{
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<sbyte> L = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        for (int b = 0, nb = src.Length / Q3_KCodec.BlockSize; b < nb; b++)
        {
            var x = src.Slice(b * Q3_KCodec.BlockSize, Q3_KCodec.BlockSize);
            var y = dst.Slice(b * Q3_KCodec.BlockBytes, Q3_KCodec.BlockBytes);
            var hmask = y[..32];
            var qs = y.Slice(32, 64);
            var sc = y.Slice(96, 12);
            float maxScale = 0, amax = 0;
            for (var j = 0; j < 16; j++)
            {
                scales[j] = KQuantMath.MakeQ3Quants(4, x.Slice(16 * j, 16), L.Slice(16 * j, 16));
                var scale = MathF.Abs(scales[j]);
                if (scale > amax)
                {
                    amax = scale;
                    maxScale = scales[j];
                }
            }

            sc.Clear();
            if (maxScale != 0)
            {
                var iscale = -32f / maxScale;
                for (var j = 0; j < 16; j++)
                {
                    // int8_t l = nearest_int(...): the low byte, then clamped and offset.
                    var l = Math.Clamp((int)unchecked((sbyte)KQuantMath.NearestInt(iscale * scales[j])), -32, 31) + 32;
                    if (j < 8)
                    {
                        sc[j] = (byte)(l & 0xF);
                    }
                    else
                    {
                        sc[j - 8] |= (byte)((l & 0xF) << 4);
                    }

                    sc[(j % 4) + 8] |= (byte)((l >> 4) << (2 * (j / 4)));
                }

                HalfConverter.WriteHalf(y[108..], 1 / iscale);
            }
            else
            {
                HalfConverter.WriteHalf(y[108..], 0f);
            }

            var d = HalfConverter.ReadHalf(y[108..]);
            for (var j = 0; j < 16; j++)
            {
                var low = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
                var s = (sbyte)((low | (((sc[8 + (j % 4)] >> (2 * (j / 4))) & 3) << 4)) - 32);
                var dj = d * s;
                if (dj == 0)
                {
                    continue;
                }

                for (var ii = 0; ii < 16; ii++)
                {
                    L[(16 * j) + ii] = (sbyte)(Math.Clamp(KQuantMath.NearestInt(x[(16 * j) + ii] / dj), -4, 3) + 4);
                }
            }

            // The high bit of weight j goes to bit j / 32 of hmask[j % 32].
            hmask.Clear();
            for (var j = 0; j < 256; j++)
            {
                if (L[j] > 3)
                {
                    hmask[j % 32] |= (byte)(1 << (j / 32));
                    L[j] -= 4;
                }
            }

            K2BitPacking.Pack(MemoryMarshal.Cast<sbyte, byte>(L), qs);
        }
    }
}
