using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The scalar definition of the K-quant dot products, line by line ggml's
/// <c>ggml_vec_dot_q4_K_q8_K_generic</c>, <c>…q5_K…</c> and <c>…q6_K…</c>: the activations are quantized to
/// Q8_K (<see cref="ActivationQuantizer.QuantizeSuperBlock"/>), every weight quant is decoded from the
/// GGUF bytes by its own formula (no vector unpacking, no shared code with the fast kernels), the
/// integer part is exact and the float part runs in double.
/// </summary>
public static unsafe class KQuantReference
{
    private const int K = 256;

    public static void MatMul(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
    {
        var columns = w.Columns;
        var nsb = columns / K;
        var q = new sbyte[columns];
        var d = new float[nsb];
        var sums = new int[nsb * 16];
        for (var t = 0; t < input.Tokens; t++)
        {
            fixed (sbyte* pq = q)
            fixed (int* ps = sums)
            {
                for (var sb = 0; sb < nsb; sb++)
                {
                    ActivationQuantizer.QuantizeSuperBlock(input.Row(t) + (sb * K), pq + (sb * K), out d[sb], ps + (sb * 16));
                }
            }

            for (var r = rowStart; r < rowEnd; r++)
            {
                y[((long)t * yStride) + r] = (float)Dot(w.Type, w.Row(r), q, d, sums);
            }
        }
    }

    /// <summary>One row of weights (GGUF bytes) · one Q8_K row (quants, scales, sums of 16).</summary>
    public static double Dot(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> dx, ReadOnlySpan<int> bsums)
    {
        var blockBytes = GgmlTypeInfo.Of(type).BytesPerBlock;
        var sum = 0.0;
        for (var sb = 0; sb < dx.Length; sb++)
        {
            var block = row.Slice(sb * blockBytes, blockBytes);
            var xs = x.Slice(sb * K, K);
            var bs = bsums.Slice(sb * 16, 16);
            if (type == GgmlType.Q6_K)
            {
                // a = q6 − 32; Σ_j scale_j · Σ_{16} a·x; times d·dx.
                var d = (float)BitConverter.UInt16BitsToHalf((ushort)(block[208] | (block[209] << 8)));
                long isum = 0;
                for (var e = 0; e < K; e++)
                {
                    isum += (long)(sbyte)block[192 + (e / 16)] * (Q6(block, e) - 32) * xs[e];
                }

                sum += (double)(d * dx[sb]) * isum;
            }
            else
            {
                var d = (float)BitConverter.UInt16BitsToHalf((ushort)(block[0] | (block[1] << 8)));
                var dmin = (float)BitConverter.UInt16BitsToHalf((ushort)(block[2] | (block[3] << 8)));
                long isum = 0, msum = 0;
                for (var e = 0; e < K; e++)
                {
                    var (scale, _) = ScaleMin(block.Slice(4, 12), e / 32);
                    var v = type == GgmlType.Q4_K ? Q4(block, e) : Q5(block, e);
                    isum += (long)scale * v * xs[e];
                }

                for (var j = 0; j < 16; j++)
                {
                    msum += (long)ScaleMin(block.Slice(4, 12), j / 2).Min * bs[j];
                }

                sum += ((double)(d * dx[sb]) * isum) - ((double)(dmin * dx[sb]) * msum);
            }
        }

        return sum;
    }

    // Q4_K: element e of chunk e/64: low nibbles of qs[32·chunk..] for its first 32, high nibbles after.
    private static int Q4(ReadOnlySpan<byte> b, int e) => (b[16 + (32 * (e / 64)) + (e % 32)] >> (e % 64 < 32 ? 0 : 4)) & 0xF;

    // Q5_K: the nibble (qs at 48) plus 16 when bit 2·chunk (first 32) or 2·chunk+1 of qh[e % 32] is set.
    private static int Q5(ReadOnlySpan<byte> b, int e)
    {
        var chunk = e / 64;
        var nibble = (b[48 + (32 * chunk) + (e % 32)] >> (e % 64 < 32 ? 0 : 4)) & 0xF;
        var bit = (b[16 + (e % 32)] >> ((2 * chunk) + (e % 64 < 32 ? 0 : 1))) & 1;
        return nibble + (16 * bit);
    }

    // Q6_K: half e/128; within it, group g = (e%128)/32 takes ql[64·half + 32·(g%2) + l] (low nibble for
    // g < 2, high after) and bits 2g..2g+1 of qh[32·half + l].
    private static int Q6(ReadOnlySpan<byte> b, int e)
    {
        int half = e / 128, g = e % 128 / 32, l = e % 32;
        var low = (b[(64 * half) + (32 * (g % 2)) + l] >> (g < 2 ? 0 : 4)) & 0xF;
        var high = (b[128 + (32 * half) + l] >> (2 * g)) & 3;
        return low | (high << 4);
    }

    // ggml's get_scale_min_k4.
    private static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> s, int j) => j < 4
        ? (s[j] & 63, s[j + 4] & 63)
        : ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4));
}
