using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Alpaca.Llm.Tensors;
using static Alpaca.Inference.Kernels.Vector256Rows;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Q4_0 / Q8_0 weights (packed, <see cref="PackedQuantLayout"/>) × Q8 activations for the few-token
/// products of batched decode (continuous batching: one token per running sequence, 2–16 and up to
/// <see cref="MaxTokens"/>) on plain AVX2, where there is no <c>vpdpbusd</c> and the integer dot products,
/// not the weight stream, limit a multi-token step. Per 8-row group, tokens are taken four at a time,
/// then two, then one, all on the group while its weights are in L1, so each weight block comes from
/// memory once per step; per block the work shared by the tokens is done once:
/// <list type="bullet">
/// <item>Q8_0: the quant's sign restore (XOR 0x80) and its absolute value (the <c>vpmaddubsw</c> sign
/// trick, |q|·sign(x, q), as ggml's AVX2 path), leaving per token and 4-column chunk one <c>vpsignb</c>,
/// one <c>vpmaddubsw</c>, one <c>vpmaddwd</c> and one add (the one-token kernel does six operations);</item>
/// <item>Q4_0: the nibble unpack, and per token the eight <c>vpmaddubsw</c> pair sums of a block are added
/// in int16 before one <c>vpmaddwd</c> (nibble ≤ 15 × |x| ≤ 127, two per pair, eight pairs: ≤ 30,480, no
/// saturation), where the one-token kernel widens each of them.</item>
/// </list>
/// Integer sums are exact, so the result is the same function as <see cref="QuantKernels"/> and the
/// reference; only the float accumulation order of the blocks is the same too (one FMA per block).
/// Prompt batches (≥ <see cref="MaxTokens"/> tokens) stay on <see cref="QuantKernels"/>.
/// </summary>
internal static unsafe class QuantDecodeKernels
{
    /// <summary>Token counts below this take these kernels on the AVX2 path.</summary>
    public const int MaxTokens = 64;

    private const int G = PackedQuantLayout.RowsPerGroup;
    private const int PrefetchDistance = 4096;

    public static void Run(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
    {
        var q = input.Quantized ?? throw new InvalidOperationException($"{w.Name}: quantized weights need quantized activations.");
        var g0 = rowStart / G;
        var g1 = (rowEnd + G - 1) / G;
        var q4 = w.Type == GgmlType.Q4_0;
        var tokens = input.Tokens;
        var row0 = input.QuantRow0;
        for (var g = g0; g < g1; g++)
        {
            var t = 0;
            for (; t + 4 <= tokens; t += 4)
            {
                if (q4)
                {
                    Q4Group4(w, q, row0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                }
                else
                {
                    Q8Group4(w, q, row0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                }
            }

            if (t + 2 <= tokens)
            {
                if (q4)
                {
                    Q4Group2(w, q, row0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                }
                else
                {
                    Q8Group2(w, q, row0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                }

                t += 2;
            }

            if (t < tokens)
            {
                var row = row0 + t;
                var sum = q4
                    ? Q4Group1(w, q.Quants(row), q.Scales(row), q.NegSum8(row), g)
                    : QuantKernels.Q8Group1<Avx2Dot>(w, q.Quants(row), q.Scales(row), q.NegSum128(row), g);
                Store(sum, y + (long)t * yStride, g * G, rowEnd);
            }
        }
    }

    // ---- Q8_0 ----

    /// <summary>acc + Σ over the chunk's 4 columns of q·x, row r in lane r: |q|·sign(x, q) pairs, widened by vpmaddwd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q8Dot(Vector256<int> acc, Vector256<byte> absQ, Vector256<sbyte> q, sbyte* x) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absQ, Avx2.Sign(Broadcast4(x), q)), Vector256.Create((short)1));

    /// <summary>The signed quants of chunk c (packed as q + 128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Q8Chunk(byte* wq, int c) => (Vector256.Load(wq + (32 * c)) ^ Vector256.Create((byte)0x80)).AsSByte();

    // Token t of a slice reads its quants at x + t·k and its scales at d + t·nb (consecutive activation
    // rows): one base pointer and a stride instead of a pointer per token, so the loop's pointers stay
    // in registers (with four of each the JIT spilled them in the inner loop).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8Group4(WeightMatrix w, Q8Activations act, int row0, int g, float* y, int yStride, int rowEnd)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 256;
        var ws = w.PackedScales + (long)g * nb * G;
        var x = act.Quants(row0);
        var d = act.Scales(row0);
        long k = act.Columns;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var b = 0; b < nb; b++, wq += 256, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            Sse.Prefetch0(wq + PrefetchDistance + 128);
            Sse.Prefetch0(wq + PrefetchDistance + 192);
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var c = 0; c < 8; c++)
            {
                var q = Q8Chunk(wq, c);
                var m = Avx2.Abs(q);
                var xc = x + (4 * c);
                a0 = Q8Dot(a0, m, q, xc);
                a1 = Q8Dot(a1, m, q, xc + k);
                a2 = Q8Dot(a2, m, q, xc + (2 * k));
                a3 = Q8Dot(a3, m, q, xc + (3 * k));
            }

            var dw = HalfVectors.HalfToFloat(Vector128.Load(ws));
            s0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0), dw * Vector256.Create(d[b]), s0);
            s1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a1), dw * Vector256.Create(d[nb + b]), s1);
            s2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a2), dw * Vector256.Create(d[(2 * nb) + b]), s2);
            s3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a3), dw * Vector256.Create(d[(3 * nb) + b]), s3);
        }

        Store(s0, y, g * G, rowEnd);
        Store(s1, y + yStride, g * G, rowEnd);
        Store(s2, y + (2L * yStride), g * G, rowEnd);
        Store(s3, y + (3L * yStride), g * G, rowEnd);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8Group2(WeightMatrix w, Q8Activations act, int row0, int g, float* y, int yStride, int rowEnd)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 256;
        var ws = w.PackedScales + (long)g * nb * G;
        var x = act.Quants(row0);
        var d = act.Scales(row0);
        long k = act.Columns;
        Vector256<float> s0 = default, s1 = default;
        for (var b = 0; b < nb; b++, wq += 256, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            Sse.Prefetch0(wq + PrefetchDistance + 128);
            Sse.Prefetch0(wq + PrefetchDistance + 192);

            // Two accumulators per token (even and odd chunks) keep two add chains in flight.
            Vector256<int> a0 = default, b0 = default, a1 = default, b1 = default;
            for (var c = 0; c < 8; c += 2)
            {
                var q = Q8Chunk(wq, c);
                var m = Avx2.Abs(q);
                var xc = x + (4 * c);
                a0 = Q8Dot(a0, m, q, xc);
                a1 = Q8Dot(a1, m, q, xc + k);
                q = Q8Chunk(wq, c + 1);
                m = Avx2.Abs(q);
                b0 = Q8Dot(b0, m, q, xc + 4);
                b1 = Q8Dot(b1, m, q, xc + k + 4);
            }

            var dw = HalfVectors.HalfToFloat(Vector128.Load(ws));
            s0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0 + b0), dw * Vector256.Create(d[b]), s0);
            s1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a1 + b1), dw * Vector256.Create(d[nb + b]), s1);
        }

        Store(s0, y, g * G, rowEnd);
        Store(s1, y + yStride, g * G, rowEnd);
    }

    // ---- Q4_0 ----

    /// <summary>
    /// One token's block: the eight vpmaddubsw pair sums (low nibbles with columns 0–15, high nibbles with
    /// 16–31) added in int16, widened once, started at −8·Σx (the nibbles' offset).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q4Block(
        Vector256<byte> l0, Vector256<byte> l1, Vector256<byte> l2, Vector256<byte> l3,
        Vector256<byte> h0, Vector256<byte> h1, Vector256<byte> h2, Vector256<byte> h3, sbyte* x, int neg8)
    {
        var p0 = Avx2.MultiplyAddAdjacent(l0, Broadcast4(x)) + Avx2.MultiplyAddAdjacent(h0, Broadcast4(x + 16));
        var p1 = Avx2.MultiplyAddAdjacent(l1, Broadcast4(x + 4)) + Avx2.MultiplyAddAdjacent(h1, Broadcast4(x + 20));
        var p2 = Avx2.MultiplyAddAdjacent(l2, Broadcast4(x + 8)) + Avx2.MultiplyAddAdjacent(h2, Broadcast4(x + 24));
        var p3 = Avx2.MultiplyAddAdjacent(l3, Broadcast4(x + 12)) + Avx2.MultiplyAddAdjacent(h3, Broadcast4(x + 28));
        return Avx2.MultiplyAddAdjacent((p0 + p1) + (p2 + p3), Vector256.Create((short)1)) + Vector256.Create(neg8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Low(Vector256<byte> v) => v & Vector256.Create((byte)0x0F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> High(Vector256<byte> v) => Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static Vector256<float> Q4Group1(WeightMatrix w, sbyte* x, float* xd, int* xNeg8, int g)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 128;
        var ws = w.PackedScales + (long)g * nb * G;
        var sum = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, wq += 128, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            var v0 = Vector256.Load(wq);
            var v1 = Vector256.Load(wq + 32);
            var v2 = Vector256.Load(wq + 64);
            var v3 = Vector256.Load(wq + 96);
            var a = Q4Block(Low(v0), Low(v1), Low(v2), Low(v3), High(v0), High(v1), High(v2), High(v3), x, xNeg8[b]);
            var scale = HalfVectors.HalfToFloat(Vector128.Load(ws)) * Vector256.Create(xd[b]);
            sum = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a), scale, sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q4Group4(WeightMatrix w, Q8Activations act, int row0, int g, float* y, int yStride, int rowEnd)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 128;
        var ws = w.PackedScales + (long)g * nb * G;
        var x = act.Quants(row0);
        var d = act.Scales(row0);
        var n = act.NegSum8(row0);
        long k = act.Columns;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var b = 0; b < nb; b++, wq += 128, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            var v0 = Vector256.Load(wq);
            var v1 = Vector256.Load(wq + 32);
            var v2 = Vector256.Load(wq + 64);
            var v3 = Vector256.Load(wq + 96);
            Vector256<byte> l0 = Low(v0), l1 = Low(v1), l2 = Low(v2), l3 = Low(v3);
            Vector256<byte> h0 = High(v0), h1 = High(v1), h2 = High(v2), h3 = High(v3);
            var dw = HalfVectors.HalfToFloat(Vector128.Load(ws));
            s0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Q4Block(l0, l1, l2, l3, h0, h1, h2, h3, x, n[b])), dw * Vector256.Create(d[b]), s0);
            s1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Q4Block(l0, l1, l2, l3, h0, h1, h2, h3, x + k, n[nb + b])), dw * Vector256.Create(d[nb + b]), s1);
            s2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Q4Block(l0, l1, l2, l3, h0, h1, h2, h3, x + (2 * k), n[(2 * nb) + b])), dw * Vector256.Create(d[(2 * nb) + b]), s2);
            s3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Q4Block(l0, l1, l2, l3, h0, h1, h2, h3, x + (3 * k), n[(3 * nb) + b])), dw * Vector256.Create(d[(3 * nb) + b]), s3);
        }

        Store(s0, y, g * G, rowEnd);
        Store(s1, y + yStride, g * G, rowEnd);
        Store(s2, y + (2L * yStride), g * G, rowEnd);
        Store(s3, y + (3L * yStride), g * G, rowEnd);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q4Group2(WeightMatrix w, Q8Activations act, int row0, int g, float* y, int yStride, int rowEnd)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 128;
        var ws = w.PackedScales + (long)g * nb * G;
        var x = act.Quants(row0);
        var d = act.Scales(row0);
        var n = act.NegSum8(row0);
        long k = act.Columns;
        Vector256<float> s0 = default, s1 = default;
        for (var b = 0; b < nb; b++, wq += 128, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            var v0 = Vector256.Load(wq);
            var v1 = Vector256.Load(wq + 32);
            var v2 = Vector256.Load(wq + 64);
            var v3 = Vector256.Load(wq + 96);
            Vector256<byte> l0 = Low(v0), l1 = Low(v1), l2 = Low(v2), l3 = Low(v3);
            Vector256<byte> h0 = High(v0), h1 = High(v1), h2 = High(v2), h3 = High(v3);
            var dw = HalfVectors.HalfToFloat(Vector128.Load(ws));
            s0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Q4Block(l0, l1, l2, l3, h0, h1, h2, h3, x, n[b])), dw * Vector256.Create(d[b]), s0);
            s1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Q4Block(l0, l1, l2, l3, h0, h1, h2, h3, x + k, n[nb + b])), dw * Vector256.Create(d[nb + b]), s1);
        }

        Store(s0, y, g * G, rowEnd);
        Store(s1, y + yStride, g * G, rowEnd);
    }
}
