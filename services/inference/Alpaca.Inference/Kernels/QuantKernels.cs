using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Alpaca.Inference.Kernels.Vector256Rows;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Q4_0 / Q8_0 weights (packed, <see cref="PackedQuantLayout"/>) × Q8 activations on x86. For each group of
/// 8 rows and each 32-column block, the block's int32 dot products of all 8 rows build up in one register
/// (lane r = row r), are converted to float once and scaled by the 8 weight scales × the activation
/// scale. Token generation uses the one-token kernel; prompt processing the four-token kernel, which
/// unpacks each weight block once and reuses it for four activation rows.
/// </summary>
internal static unsafe class QuantKernels
{
    private const int G = PackedQuantLayout.RowsPerGroup;
    private const int TokenBlock = 128;

    // Software prefetch distance of the one-token kernels (bytes ahead in the packed stream). The hardware
    // prefetcher alone left DRAM idle while a block was being multiplied; 4 KB ahead measured +15–40% CPU
    // efficiency on a 250 MB Q8_0/Q4_0 matrix, one thread (2 KB and 8 KB were worse).
    private const int PrefetchDistance = 4096;

    public static void Run<TDot>(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
        where TDot : struct, IIntDot
    {
        var q = input.Quantized ?? throw new InvalidOperationException($"{w.Name}: quantized weights need quantized activations.");
        var g0 = rowStart / G;
        var g1 = (rowEnd + G - 1) / G;
        var q4 = w.Type == Alpaca.Llm.Tensors.GgmlType.Q4_0;
        var full = input.Tokens / 4 * 4;

        // Tokens in blocks that keep their activations in L2; inside, one 8-row weight group (L1) meets
        // every 4-token slice of the block before the next group is loaded.
        for (var tb = 0; tb < full; tb += TokenBlock)
        {
            var tEnd = Math.Min(full, tb + TokenBlock);
            for (var g = g0; g < g1; g++)
            {
                for (var t = tb; t < tEnd; t += 4)
                {
                    if (q4)
                    {
                        Q4Group4<TDot>(w, q, input.QuantRow0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                    }
                    else if (typeof(TDot) == typeof(Avx2Dot))
                    {
                        Q8PromptAvx2.Group4(w, q, input.QuantRow0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                    }
                    else
                    {
                        Q8Group4<TDot>(w, q, input.QuantRow0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                    }
                }
            }
        }

        for (var t = full; t < input.Tokens; t++)
        {
            var row = input.QuantRow0 + t;
            for (var g = g0; g < g1; g++)
            {
                var sum = q4
                    ? Q4Group1<TDot>(w, q.Quants(row), q.Scales(row), q.NegSum8(row), g)
                    : Q8Group1<TDot>(w, q.Quants(row), q.Scales(row), q.NegSum128(row), g);
                Store(sum, y + (long)t * yStride, g * G, rowEnd);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> High(Vector256<byte> w) => Avx2.ShiftRightLogical(w.AsUInt16(), 4).AsByte();


    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Q4Group1<TDot>(WeightMatrix w, sbyte* x, float* xd, int* xNeg8, int g)
        where TDot : struct, IIntDot
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 128;
        var ws = w.PackedScales + (long)g * nb * G;
        var mask = Vector256.Create((byte)0x0F);
        var sum = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, wq += 128, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);

            var w0 = Vector256.Load(wq);
            var w1 = Vector256.Load(wq + 32);
            var w2 = Vector256.Load(wq + 64);
            var w3 = Vector256.Load(wq + 96);
            var lo = TDot.DotQ4(Vector256.Create(xNeg8[b]), w0 & mask, Broadcast4(x));
            var hi = TDot.DotQ4(Vector256<int>.Zero, High(w0) & mask, Broadcast4(x + 16));
            lo = TDot.DotQ4(lo, w1 & mask, Broadcast4(x + 4));
            hi = TDot.DotQ4(hi, High(w1) & mask, Broadcast4(x + 20));
            lo = TDot.DotQ4(lo, w2 & mask, Broadcast4(x + 8));
            hi = TDot.DotQ4(hi, High(w2) & mask, Broadcast4(x + 24));
            lo = TDot.DotQ4(lo, w3 & mask, Broadcast4(x + 12));
            hi = TDot.DotQ4(hi, High(w3) & mask, Broadcast4(x + 28));
            var scale = HalfVectors.HalfToFloat(Vector128.Load(ws)) * Vector256.Create(xd[b]);
            sum = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lo + hi), scale, sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static Vector256<float> Q8Group1<TDot>(WeightMatrix w, sbyte* x, float* xd, int* xNeg128, int g)
        where TDot : struct, IIntDot
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 256;
        var ws = w.PackedScales + (long)g * nb * G;
        var sum = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, wq += 256, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            Sse.Prefetch0(wq + PrefetchDistance + 128);
            Sse.Prefetch0(wq + PrefetchDistance + 192);

            var a0 = TDot.Q8Offset ? Vector256.Create(xNeg128[b]) : Vector256<int>.Zero;
            var a1 = TDot.DotQ8(Vector256<int>.Zero, Vector256.Load(wq + 32), Broadcast4(x + 4));
            a0 = TDot.DotQ8(a0, Vector256.Load(wq), Broadcast4(x));
            a0 = TDot.DotQ8(a0, Vector256.Load(wq + 64), Broadcast4(x + 8));
            a1 = TDot.DotQ8(a1, Vector256.Load(wq + 96), Broadcast4(x + 12));
            a0 = TDot.DotQ8(a0, Vector256.Load(wq + 128), Broadcast4(x + 16));
            a1 = TDot.DotQ8(a1, Vector256.Load(wq + 160), Broadcast4(x + 20));
            a0 = TDot.DotQ8(a0, Vector256.Load(wq + 192), Broadcast4(x + 24));
            a1 = TDot.DotQ8(a1, Vector256.Load(wq + 224), Broadcast4(x + 28));
            var scale = HalfVectors.HalfToFloat(Vector128.Load(ws)) * Vector256.Create(xd[b]);
            sum = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0 + a1), scale, sum);
        }

        return sum;
    }

    /// <summary>One group of 8 rows × 4 tokens (activation rows row0..row0+3): each weight block is unpacked once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q4Group4<TDot>(WeightMatrix w, Q8Activations q, int row0, int g, float* y, int yStride, int rowEnd)
        where TDot : struct, IIntDot
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 128;
        var ws = w.PackedScales + (long)g * nb * G;
        var mask = Vector256.Create((byte)0x0F);
        sbyte* x0 = q.Quants(row0), x1 = q.Quants(row0 + 1), x2 = q.Quants(row0 + 2), x3 = q.Quants(row0 + 3);
        float* d0 = q.Scales(row0), d1 = q.Scales(row0 + 1), d2 = q.Scales(row0 + 2), d3 = q.Scales(row0 + 3);
        int* n0 = q.NegSum8(row0), n1 = q.NegSum8(row0 + 1), n2 = q.NegSum8(row0 + 2), n3 = q.NegSum8(row0 + 3);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var b = 0; b < nb; b++, wq += 128, ws += G)
        {
            // Few-token batches (continuous batching's decode steps) stream the weights from DRAM here too.
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            var v = Vector256.Load(wq);
            var l0 = v & mask;
            var h0 = High(v) & mask;
            v = Vector256.Load(wq + 32);
            var l1 = v & mask;
            var h1 = High(v) & mask;
            v = Vector256.Load(wq + 64);
            var l2 = v & mask;
            var h2 = High(v) & mask;
            v = Vector256.Load(wq + 96);
            var l3 = v & mask;
            var h3 = High(v) & mask;
            var dw = HalfVectors.HalfToFloat(Vector128.Load(ws));
            var o = b * 32;
            s0 = Q4Token<TDot>(s0, l0, l1, l2, l3, h0, h1, h2, h3, x0 + o, n0[b], dw * Vector256.Create(d0[b]));
            s1 = Q4Token<TDot>(s1, l0, l1, l2, l3, h0, h1, h2, h3, x1 + o, n1[b], dw * Vector256.Create(d1[b]));
            s2 = Q4Token<TDot>(s2, l0, l1, l2, l3, h0, h1, h2, h3, x2 + o, n2[b], dw * Vector256.Create(d2[b]));
            s3 = Q4Token<TDot>(s3, l0, l1, l2, l3, h0, h1, h2, h3, x3 + o, n3[b], dw * Vector256.Create(d3[b]));
        }

        Store(s0, y, g * G, rowEnd);
        Store(s1, y + yStride, g * G, rowEnd);
        Store(s2, y + 2L * yStride, g * G, rowEnd);
        Store(s3, y + 3L * yStride, g * G, rowEnd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4Token<TDot>(
        Vector256<float> sum,
        Vector256<byte> l0, Vector256<byte> l1, Vector256<byte> l2, Vector256<byte> l3,
        Vector256<byte> h0, Vector256<byte> h1, Vector256<byte> h2, Vector256<byte> h3,
        sbyte* x, int neg8, Vector256<float> scale)
        where TDot : struct, IIntDot
    {
        var lo = TDot.DotQ4(Vector256.Create(neg8), l0, Broadcast4(x));
        var hi = TDot.DotQ4(Vector256<int>.Zero, h0, Broadcast4(x + 16));
        lo = TDot.DotQ4(lo, l1, Broadcast4(x + 4));
        hi = TDot.DotQ4(hi, h1, Broadcast4(x + 20));
        lo = TDot.DotQ4(lo, l2, Broadcast4(x + 8));
        hi = TDot.DotQ4(hi, h2, Broadcast4(x + 24));
        lo = TDot.DotQ4(lo, l3, Broadcast4(x + 12));
        hi = TDot.DotQ4(hi, h3, Broadcast4(x + 28));
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(lo + hi), scale, sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8Group4<TDot>(WeightMatrix w, Q8Activations q, int row0, int g, float* y, int yStride, int rowEnd)
        where TDot : struct, IIntDot
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 256;
        var ws = w.PackedScales + (long)g * nb * G;
        sbyte* x0 = q.Quants(row0), x1 = q.Quants(row0 + 1), x2 = q.Quants(row0 + 2), x3 = q.Quants(row0 + 3);
        float* d0 = q.Scales(row0), d1 = q.Scales(row0 + 1), d2 = q.Scales(row0 + 2), d3 = q.Scales(row0 + 3);
        int* n0 = q.NegSum128(row0), n1 = q.NegSum128(row0 + 1), n2 = q.NegSum128(row0 + 2), n3 = q.NegSum128(row0 + 3);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var b = 0; b < nb; b++, wq += 256, ws += G)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            Sse.Prefetch0(wq + PrefetchDistance + 128);
            Sse.Prefetch0(wq + PrefetchDistance + 192);
            var w0 = Vector256.Load(wq);
            var w1 = Vector256.Load(wq + 32);
            var w2 = Vector256.Load(wq + 64);
            var w3 = Vector256.Load(wq + 96);
            var w4 = Vector256.Load(wq + 128);
            var w5 = Vector256.Load(wq + 160);
            var w6 = Vector256.Load(wq + 192);
            var w7 = Vector256.Load(wq + 224);
            var dw = HalfVectors.HalfToFloat(Vector128.Load(ws));
            var o = b * 32;
            s0 = Q8Token<TDot>(s0, w0, w1, w2, w3, w4, w5, w6, w7, x0 + o, n0[b], dw * Vector256.Create(d0[b]));
            s1 = Q8Token<TDot>(s1, w0, w1, w2, w3, w4, w5, w6, w7, x1 + o, n1[b], dw * Vector256.Create(d1[b]));
            s2 = Q8Token<TDot>(s2, w0, w1, w2, w3, w4, w5, w6, w7, x2 + o, n2[b], dw * Vector256.Create(d2[b]));
            s3 = Q8Token<TDot>(s3, w0, w1, w2, w3, w4, w5, w6, w7, x3 + o, n3[b], dw * Vector256.Create(d3[b]));
        }

        Store(s0, y, g * G, rowEnd);
        Store(s1, y + yStride, g * G, rowEnd);
        Store(s2, y + 2L * yStride, g * G, rowEnd);
        Store(s3, y + 3L * yStride, g * G, rowEnd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q8Token<TDot>(
        Vector256<float> sum,
        Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7,
        sbyte* x, int neg128, Vector256<float> scale)
        where TDot : struct, IIntDot
    {
        var a0 = TDot.Q8Offset ? Vector256.Create(neg128) : Vector256<int>.Zero;
        var a1 = TDot.DotQ8(Vector256<int>.Zero, w1, Broadcast4(x + 4));
        a0 = TDot.DotQ8(a0, w0, Broadcast4(x));
        a0 = TDot.DotQ8(a0, w2, Broadcast4(x + 8));
        a1 = TDot.DotQ8(a1, w3, Broadcast4(x + 12));
        a0 = TDot.DotQ8(a0, w4, Broadcast4(x + 16));
        a1 = TDot.DotQ8(a1, w5, Broadcast4(x + 20));
        a0 = TDot.DotQ8(a0, w6, Broadcast4(x + 24));
        a1 = TDot.DotQ8(a1, w7, Broadcast4(x + 28));
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0 + a1), scale, sum);
    }
}
