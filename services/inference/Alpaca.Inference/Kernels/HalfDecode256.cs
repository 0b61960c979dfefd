using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// fp16 decode (1–4 tokens) on AVX2 + FMA: the weights against activations pre-scaled by 2¹¹²
/// (<see cref="HalfVectors.ScaleForHalfDot"/>), each half widened by three integer ops
/// (<see cref="F16ScaledElement"/>). Two rows at a time, each with its own software prefetch 4 KB ahead
/// and four accumulators (8 in all): one row at a time with no prefetch left DRAM idle while a line was
/// being widened (11.8 GB/CPU-s on a 256 MB matrix, one thread); prefetching alone gave +5%, two
/// prefetched rows +20% (14.3), four rows less (13.2).
/// </summary>
internal static unsafe class HalfDecode256
{
    private const int PrefetchDistance = 4096;

    /// <summary>y[t·yStride + r] = row r · scaled.Row(t) for rows [rowStart, rowEnd) and every token of <paramref name="scaled"/>.</summary>
    public static void Rows(WeightMatrix w, in MatMulInput scaled, int rowStart, int rowEnd, float* y, int yStride)
    {
        var k = w.Columns;
        var r = rowStart;
        for (; r + 2 <= rowEnd; r += 2)
        {
            var row = w.Data + r * w.RowBytes;
            for (var t = 0; t < scaled.Tokens; t++)
            {
                Dot2(row, row + w.RowBytes, scaled.Row(t), k, y + (long)t * yStride + r);
            }
        }

        for (; r < rowEnd; r++)
        {
            var row = w.Data + r * w.RowBytes;
            for (var t = 0; t < scaled.Tokens; t++)
            {
                Dot2(row, row, scaled.Row(t), k, y + (long)t * yStride + r, one: true);
            }
        }
    }

    /// <summary>y[0] = r0·x, y[1] = r1·x (only y[0] when <paramref name="one"/>: r1 is then r0 and its loads hit L1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot2(byte* r0, byte* r1, float* x, int k, float* y, bool one = false)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        var i = 0;
        for (; i + 32 <= k; i += 32)
        {
            var o = i * 2;
            Sse.Prefetch0(r0 + o + PrefetchDistance);
            Sse.Prefetch0(r1 + o + PrefetchDistance);
            var x0 = Vector256.Load(x + i);
            a0 = Fma.MultiplyAdd(F16ScaledElement.Load8(r0 + o), x0, a0);
            b0 = Fma.MultiplyAdd(F16ScaledElement.Load8(r1 + o), x0, b0);
            var x1 = Vector256.Load(x + i + 8);
            a1 = Fma.MultiplyAdd(F16ScaledElement.Load8(r0 + o + 16), x1, a1);
            b1 = Fma.MultiplyAdd(F16ScaledElement.Load8(r1 + o + 16), x1, b1);
            var x2 = Vector256.Load(x + i + 16);
            a2 = Fma.MultiplyAdd(F16ScaledElement.Load8(r0 + o + 32), x2, a2);
            b2 = Fma.MultiplyAdd(F16ScaledElement.Load8(r1 + o + 32), x2, b2);
            var x3 = Vector256.Load(x + i + 24);
            a3 = Fma.MultiplyAdd(F16ScaledElement.Load8(r0 + o + 48), x3, a3);
            b3 = Fma.MultiplyAdd(F16ScaledElement.Load8(r1 + o + 48), x3, b3);
        }

        for (; i + 8 <= k; i += 8)
        {
            var xv = Vector256.Load(x + i);
            a0 = Fma.MultiplyAdd(F16ScaledElement.Load8(r0 + i * 2), xv, a0);
            b0 = Fma.MultiplyAdd(F16ScaledElement.Load8(r1 + i * 2), xv, b0);
        }

        float s0 = 0f, s1 = 0f;
        for (; i < k; i++)
        {
            s0 += F16ScaledElement.Load1(r0 + i * 2) * x[i];
            s1 += F16ScaledElement.Load1(r1 + i * 2) * x[i];
        }

        y[0] = Vector256.Sum((a0 + a1) + (a2 + a3)) + s0;
        if (!one)
        {
            y[1] = Vector256.Sum((b0 + b1) + (b2 + b3)) + s1;
        }
    }
}
