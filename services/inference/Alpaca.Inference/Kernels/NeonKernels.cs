using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Q4_0 / Q8_0 weights (packed, <see cref="PackedQuantLayout"/>) × Q8 activations on ARM64 with the
/// dot-product extension (<c>sdot</c>: ARMv8.2+, the Raspberry Pi 5's Cortex-A76, Apple M1+, Graviton 2+).
/// The packed layout was made for x86's 32-byte registers; a 128-bit register holds one half of a chunk,
/// 4 columns of rows 0–3 (low half) or rows 4–7 (high half), so each 8-row group keeps two int32
/// accumulators (lane r = row r of its half) and one broadcast 4-byte activation group serves both.
/// <c>sdot</c> is signed × signed: Q8 quants get their sign back with one XOR (stored as q + 128), Q4
/// nibbles (0..15) are already valid signed bytes and the block's accumulator starts at −8·Σx, as on x86.
/// Prompt processing unpacks each weight block once for four tokens.
/// </summary>
internal static unsafe class NeonKernels
{
    private const int G = PackedQuantLayout.RowsPerGroup;
    private const int TokenBlock = 64;

    public static bool IsSupported => AdvSimd.Arm64.IsSupported && Dp.IsSupported;

    public static void Run(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
    {
        var q = input.Quantized ?? throw new InvalidOperationException($"{w.Name}: quantized weights need quantized activations.");
        var g0 = rowStart / G;
        var g1 = (rowEnd + G - 1) / G;
        var q4 = w.Type == Alpaca.Llm.Tensors.GgmlType.Q4_0;
        var full = input.Tokens / 4 * 4;

        // Tokens in blocks whose activations stay in L2; one 8-row weight group (L1) meets every 4-token
        // slice of the block before the next group is loaded.
        for (var tb = 0; tb < full; tb += TokenBlock)
        {
            var tEnd = Math.Min(full, tb + TokenBlock);
            for (var g = g0; g < g1; g++)
            {
                for (var t = tb; t < tEnd; t += 4)
                {
                    if (q4)
                    {
                        Q4Group4(w, q, input.QuantRow0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                    }
                    else
                    {
                        Q8Group4(w, q, input.QuantRow0 + t, g, y + (long)t * yStride, yStride, rowEnd);
                    }
                }
            }
        }

        for (var t = full; t < input.Tokens; t++)
        {
            var row = input.QuantRow0 + t;
            for (var g = g0; g < g1; g++)
            {
                var (lo, hi) = q4
                    ? Q4Group1(w, q.Quants(row), q.Scales(row), q.NegSum8(row), g)
                    : Q8Group1(w, q.Quants(row), q.Scales(row), g);
                Store(lo, hi, y + (long)t * yStride, g * G, rowEnd);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Broadcast4(sbyte* p) => Vector128.Create(*(int*)p).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Signed(byte* p) => (Vector128.Load(p) ^ Vector128.Create((byte)0x80)).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Low(Vector128<byte> w) => (w & Vector128.Create((byte)0x0F)).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> High(Vector128<byte> w) => Vector128.ShiftRightLogical(w, 4).AsSByte();

    /// <summary>The 8 weight scales of a block (fp16) as two float vectors, rows 0–3 and 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float> Lo, Vector128<float> Hi) Scales(ushort* ws)
    {
        var h = Vector128.Load(ws);
        return (HalfVectors.HalfToFloatPortable(Vector128.WidenLower(h)), HalfVectors.HalfToFloatPortable(Vector128.WidenUpper(h)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector128<float> lo, Vector128<float> hi, float* y, int row0, int rowEnd)
    {
        if (row0 + G <= rowEnd)
        {
            lo.Store(y + row0);
            hi.Store(y + row0 + 4);
            return;
        }

        for (var r = 0; row0 + r < rowEnd; r++)
        {
            y[row0 + r] = r < 4 ? lo.GetElement(r) : hi.GetElement(r - 4);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (Vector128<float>, Vector128<float>) Q8Group1(WeightMatrix w, sbyte* x, float* xd, int g)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 256;
        var ws = w.PackedScales + (long)g * nb * G;
        Vector128<float> sLo = default, sHi = default;
        for (var b = 0; b < nb; b++, wq += 256, ws += G, x += 32)
        {
            // Two chains per half (even and odd chunks), so consecutive sdots do not wait on each other.
            Vector128<int> lo0 = default, hi0 = default, lo1 = default, hi1 = default;
            for (var c = 0; c < 8; c += 2)
            {
                var x0 = Broadcast4(x + 4 * c);
                var x1 = Broadcast4(x + 4 * c + 4);
                lo0 = Dp.DotProduct(lo0, Signed(wq + 32 * c), x0);
                hi0 = Dp.DotProduct(hi0, Signed(wq + 32 * c + 16), x0);
                lo1 = Dp.DotProduct(lo1, Signed(wq + 32 * c + 32), x1);
                hi1 = Dp.DotProduct(hi1, Signed(wq + 32 * c + 48), x1);
            }

            var (dLo, dHi) = Scales(ws);
            var dx = Vector128.Create(xd[b]);
            sLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(lo0 + lo1), dLo * dx, sLo);
            sHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(hi0 + hi1), dHi * dx, sHi);
        }

        return (sLo, sHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (Vector128<float>, Vector128<float>) Q4Group1(WeightMatrix w, sbyte* x, float* xd, int* xNeg8, int g)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 128;
        var ws = w.PackedScales + (long)g * nb * G;
        Vector128<float> sLo = default, sHi = default;
        for (var b = 0; b < nb; b++, wq += 128, ws += G, x += 32)
        {
            // Low nibbles are columns 4c..4c+3, high nibbles 16+4c..: separate chains for each.
            var lo0 = Vector128.Create(xNeg8[b]);
            var hi0 = lo0;
            Vector128<int> lo1 = default, hi1 = default;
            for (var c = 0; c < 4; c++)
            {
                var wl = Vector128.Load(wq + 32 * c);
                var wh = Vector128.Load(wq + 32 * c + 16);
                var xl = Broadcast4(x + 4 * c);
                var xh = Broadcast4(x + 16 + 4 * c);
                lo0 = Dp.DotProduct(lo0, Low(wl), xl);
                hi0 = Dp.DotProduct(hi0, Low(wh), xl);
                lo1 = Dp.DotProduct(lo1, High(wl), xh);
                hi1 = Dp.DotProduct(hi1, High(wh), xh);
            }

            var (dLo, dHi) = Scales(ws);
            var dx = Vector128.Create(xd[b]);
            sLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(lo0 + lo1), dLo * dx, sLo);
            sHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(hi0 + hi1), dHi * dx, sHi);
        }

        return (sLo, sHi);
    }

    /// <summary>One group of 8 rows × 4 tokens (activation rows row0..row0+3): each weight block is loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8Group4(WeightMatrix w, Q8Activations q, int row0, int g, float* y, int yStride, int rowEnd)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 256;
        var ws = w.PackedScales + (long)g * nb * G;
        sbyte* x0 = q.Quants(row0), x1 = q.Quants(row0 + 1), x2 = q.Quants(row0 + 2), x3 = q.Quants(row0 + 3);
        float* d0 = q.Scales(row0), d1 = q.Scales(row0 + 1), d2 = q.Scales(row0 + 2), d3 = q.Scales(row0 + 3);
        Vector128<float> s0l = default, s0h = default, s1l = default, s1h = default;
        Vector128<float> s2l = default, s2h = default, s3l = default, s3h = default;
        for (var b = 0; b < nb; b++, wq += 256, ws += G)
        {
            Vector128<int> a0l = default, a0h = default, a1l = default, a1h = default;
            Vector128<int> a2l = default, a2h = default, a3l = default, a3h = default;
            var o = b * 32;
            for (var c = 0; c < 8; c++)
            {
                var wl = Signed(wq + 32 * c);
                var wh = Signed(wq + 32 * c + 16);
                var i = o + 4 * c;
                var v = Broadcast4(x0 + i);
                a0l = Dp.DotProduct(a0l, wl, v);
                a0h = Dp.DotProduct(a0h, wh, v);
                v = Broadcast4(x1 + i);
                a1l = Dp.DotProduct(a1l, wl, v);
                a1h = Dp.DotProduct(a1h, wh, v);
                v = Broadcast4(x2 + i);
                a2l = Dp.DotProduct(a2l, wl, v);
                a2h = Dp.DotProduct(a2h, wh, v);
                v = Broadcast4(x3 + i);
                a3l = Dp.DotProduct(a3l, wl, v);
                a3h = Dp.DotProduct(a3h, wh, v);
            }

            var (dLo, dHi) = Scales(ws);
            (s0l, s0h) = Scale(s0l, s0h, a0l, a0h, dLo, dHi, d0[b]);
            (s1l, s1h) = Scale(s1l, s1h, a1l, a1h, dLo, dHi, d1[b]);
            (s2l, s2h) = Scale(s2l, s2h, a2l, a2h, dLo, dHi, d2[b]);
            (s3l, s3h) = Scale(s3l, s3h, a3l, a3h, dLo, dHi, d3[b]);
        }

        Store(s0l, s0h, y, g * G, rowEnd);
        Store(s1l, s1h, y + yStride, g * G, rowEnd);
        Store(s2l, s2h, y + 2L * yStride, g * G, rowEnd);
        Store(s3l, s3h, y + 3L * yStride, g * G, rowEnd);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q4Group4(WeightMatrix w, Q8Activations q, int row0, int g, float* y, int yStride, int rowEnd)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 128;
        var ws = w.PackedScales + (long)g * nb * G;
        sbyte* x0 = q.Quants(row0), x1 = q.Quants(row0 + 1), x2 = q.Quants(row0 + 2), x3 = q.Quants(row0 + 3);
        float* d0 = q.Scales(row0), d1 = q.Scales(row0 + 1), d2 = q.Scales(row0 + 2), d3 = q.Scales(row0 + 3);
        int* n0 = q.NegSum8(row0), n1 = q.NegSum8(row0 + 1), n2 = q.NegSum8(row0 + 2), n3 = q.NegSum8(row0 + 3);
        Vector128<float> s0l = default, s0h = default, s1l = default, s1h = default;
        Vector128<float> s2l = default, s2h = default, s3l = default, s3h = default;
        for (var b = 0; b < nb; b++, wq += 128, ws += G)
        {
            var a0l = Vector128.Create(n0[b]);
            var a1l = Vector128.Create(n1[b]);
            var a2l = Vector128.Create(n2[b]);
            var a3l = Vector128.Create(n3[b]);
            Vector128<int> a0h = a0l, a1h = a1l, a2h = a2l, a3h = a3l;
            var o = b * 32;
            for (var c = 0; c < 4; c++)
            {
                var wl = Vector128.Load(wq + 32 * c);
                var wh = Vector128.Load(wq + 32 * c + 16);
                var ll = Low(wl);
                var lh = Low(wh);
                var hl = High(wl);
                var hh = High(wh);
                var i = o + 4 * c;
                (a0l, a0h) = Q4Token(a0l, a0h, ll, lh, hl, hh, x0 + i);
                (a1l, a1h) = Q4Token(a1l, a1h, ll, lh, hl, hh, x1 + i);
                (a2l, a2h) = Q4Token(a2l, a2h, ll, lh, hl, hh, x2 + i);
                (a3l, a3h) = Q4Token(a3l, a3h, ll, lh, hl, hh, x3 + i);
            }

            var (dLo, dHi) = Scales(ws);
            (s0l, s0h) = Scale(s0l, s0h, a0l, a0h, dLo, dHi, d0[b]);
            (s1l, s1h) = Scale(s1l, s1h, a1l, a1h, dLo, dHi, d1[b]);
            (s2l, s2h) = Scale(s2l, s2h, a2l, a2h, dLo, dHi, d2[b]);
            (s3l, s3h) = Scale(s3l, s3h, a3l, a3h, dLo, dHi, d3[b]);
        }

        Store(s0l, s0h, y, g * G, rowEnd);
        Store(s1l, s1h, y + yStride, g * G, rowEnd);
        Store(s2l, s2h, y + 2L * yStride, g * G, rowEnd);
        Store(s3l, s3h, y + 3L * yStride, g * G, rowEnd);
    }

    /// <summary>One chunk of one token: low nibbles against columns 4c.., high nibbles against 16+4c...</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<int>, Vector128<int>) Q4Token(Vector128<int> lo, Vector128<int> hi,
        Vector128<sbyte> lowOfRows03, Vector128<sbyte> lowOfRows47, Vector128<sbyte> highOfRows03, Vector128<sbyte> highOfRows47, sbyte* x)
    {
        var xl = Broadcast4(x);
        var xh = Broadcast4(x + 16);
        lo = Dp.DotProduct(Dp.DotProduct(lo, lowOfRows03, xl), highOfRows03, xh);
        hi = Dp.DotProduct(Dp.DotProduct(hi, lowOfRows47, xl), highOfRows47, xh);
        return (lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float>, Vector128<float>) Scale(Vector128<float> sLo, Vector128<float> sHi, Vector128<int> lo, Vector128<int> hi,
        Vector128<float> dLo, Vector128<float> dHi, float dx)
    {
        var x = Vector128.Create(dx);
        return (Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(lo), dLo * x, sLo),
                Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(hi), dHi * x, sHi));
    }
}
