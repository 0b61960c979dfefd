using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// Attention of one query over an fp16 KV cache read in place, block by block — the decode case of
/// <see cref="AttentionStep"/>. The gather path decodes (and transposes) every cached key and value of the
/// sequence into float scratch before attending, element by element: right for a prompt, whose many
/// queries share that work, but for one decode token it is most of the step (12 layers × 12 heads × 2 ×
/// 300 positions × 64 dims ≈ 5.5 M scalar conversions per sequence per token on the 110M shape, more than
/// the sequence's share of the matrix products once 8 sequences decode together). Here each key row
/// (head_dim halves, contiguous) is widened 8 lanes at a time and multiplied as it is read, and each
/// value row likewise.
/// <para>Widening by <see cref="HalfVectors.HalfToScaledFloat(Vector128{short})"/> (three integer ops per
/// 8 halves) gives k·2⁻¹¹² exactly; the query (already rounded to fp16, so |q| ≤ 65504) is multiplied by
/// 2¹¹² once and each probability (≤ 1) likewise, so every product is the exact product of the unscaled
/// values and the sums round as the unscaled sums would. Numerics are those of the gather path
/// (fp16 query and probabilities, f32 sums); only the order of the score sums differs.</para>
/// </summary>
internal static unsafe class HalfCacheAttention
{
    private const float Rebias = 5.192296858534828e33f; // 2^112

    /// <summary>True when this CPU and head size take the in-place path (AVX2 + FMA; head_dim a multiple of 32).</summary>
    public static bool Supports(int headDim) => Avx2.IsSupported && Fma.IsSupported && headDim % 32 == 0;

    /// <summary>
    /// One query head (<paramref name="q"/>, rotated and rounded to fp16) over positions 0..n-1 of a sequence
    /// (block table <paramref name="table"/>) for one KV head of <paramref name="layer"/>: softmax(q·Kᵀ·scale),
    /// probabilities rounded to fp16, times V into <paramref name="output"/> (head_dim floats).
    /// <paramref name="scores"/>: n floats of scratch; <paramref name="qScaled"/>: head_dim floats of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(KvCache cache, int layer, int[] table, int kvHead, int n, float* q, float scale, float* qScaled, float* scores, float* output)
    {
        var hd = cache.HeadDim;
        var bt = cache.BlockTokens;
        for (var d = 0; d < hd; d += 8)
        {
            (Vector256.Load(q + d) * Vector256.Create(Rebias)).Store(qScaled + d);
        }

        // Scores, block by block (a block's rows of this head are contiguous).
        for (var start = 0; start < n; start += bt)
        {
            var rows = (short*)cache.KeyRows(layer, table[start / bt], kvHead);
            var count = Math.Min(bt, n - start);
            if (start + bt < n)
            {
                Prefetch(cache.KeyRows(layer, table[(start / bt) + 1], kvHead), Math.Min(bt, n - start - bt) * hd * sizeof(short));
            }

            var s = scores + start;
            var o = 0;
            for (; o + 2 <= count; o += 2)
            {
                Dot2(qScaled, rows + ((long)o * hd), rows + ((long)(o + 1) * hd), hd, out var s0, out var s1);
                s[o] = s0 * scale;
                s[o + 1] = s1 * scale;
            }

            if (o < count)
            {
                Dot2(qScaled, rows + ((long)o * hd), rows + ((long)o * hd), hd, out var s0, out _);
                s[o] = s0 * scale;
            }
        }

        VectorOps.Softmax(scores, n);
        Fp16.RoundInPlace(scores, n);
        for (var i = 0; i + 8 <= n; i += 8)
        {
            (Vector256.Load(scores + i) * Vector256.Create(Rebias)).Store(scores + i);
        }

        for (var i = n / 8 * 8; i < n; i++)
        {
            scores[i] *= Rebias;
        }

        // output = Σ_p p_p·v_p, 32 dimensions (four registers) at a time over all positions.
        for (var d = 0; d < hd; d += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var start = 0; start < n; start += bt)
            {
                var rows = (short*)cache.ValueRows(layer, table[start / bt], kvHead) + d;
                var count = Math.Min(bt, n - start);
                if (d == 0 && start + bt < n)
                {
                    Prefetch(cache.ValueRows(layer, table[(start / bt) + 1], kvHead), Math.Min(bt, n - start - bt) * hd * sizeof(short));
                }

                var s = scores + start;
                for (var o = 0; o < count; o++)
                {
                    var p = Vector256.Create(s[o]);
                    var v = rows + ((long)o * hd);
                    a0 = Fma.MultiplyAdd(p, HalfVectors.HalfToScaledFloat(Vector128.Load(v)), a0);
                    a1 = Fma.MultiplyAdd(p, HalfVectors.HalfToScaledFloat(Vector128.Load(v + 8)), a1);
                    a2 = Fma.MultiplyAdd(p, HalfVectors.HalfToScaledFloat(Vector128.Load(v + 16)), a2);
                    a3 = Fma.MultiplyAdd(p, HalfVectors.HalfToScaledFloat(Vector128.Load(v + 24)), a3);
                }
            }

            a0.Store(output + d);
            a1.Store(output + d + 8);
            a2.Store(output + d + 16);
            a3.Store(output + d + 24);
        }
    }

    // The sequence's blocks lie anywhere in the pool; asking for the next one while this one is multiplied
    // keeps the (memory-bound, at 16 sequences × 300 positions ≈ 120 MB) KV stream from stalling at each jump.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(byte* p, int bytes)
    {
        for (var i = 0; i < bytes; i += 64)
        {
            Sse.Prefetch0(p + i);
        }
    }

    /// <summary>q·k for two key rows at once (two independent FMA chains per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot2(float* q, short* k0, short* k1, int hd, out float s0, out float s1)
    {
        Vector256<float> a0 = default, b0 = default, a1 = default, b1 = default;
        for (var d = 0; d < hd; d += 16)
        {
            var qa = Vector256.Load(q + d);
            var qb = Vector256.Load(q + d + 8);
            a0 = Fma.MultiplyAdd(qa, HalfVectors.HalfToScaledFloat(Vector128.Load(k0 + d)), a0);
            b0 = Fma.MultiplyAdd(qb, HalfVectors.HalfToScaledFloat(Vector128.Load(k0 + d + 8)), b0);
            a1 = Fma.MultiplyAdd(qa, HalfVectors.HalfToScaledFloat(Vector128.Load(k1 + d)), a1);
            b1 = Fma.MultiplyAdd(qb, HalfVectors.HalfToScaledFloat(Vector128.Load(k1 + d + 8)), b1);
        }

        s0 = Vector256.Sum(a0 + b0);
        s1 = Vector256.Sum(a1 + b1);
    }
}
