using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Q4_K / Q5_K / Q6_K weights (repacked, <see cref="KQuantPackedLayout"/>) × Q8_K activations on ARM64 with the
/// dot-product extension (<c>sdot</c>: Raspberry Pi 5's Cortex-A76, Apple M1+, Graviton 2+), the structure
/// of <see cref="KQuantPackedKernels"/> cut to 128-bit registers as <see cref="NeonKernels"/> does for
/// Q4_0/Q8_0: a register holds one half of a 32-byte vector of the record, 4 columns of rows 0–3 (low) or
/// rows 4–7 (high), so each 8-row group keeps two int32 accumulators (lane r = row r of its half) and one
/// broadcast 4-byte activation group serves both. The quants are rebuilt in registers from the nibbles and
/// the bit planes (<c>ushr</c>, <c>and</c>, <c>sli</c>); u ≤ 63 is a valid signed byte, so <c>sdot</c>
/// (signed × signed) multiplies them as they are. Per sub-block the sdot sums take the rows' integer scales
/// with one <c>mla</c> (exact: |Σ u·x| ≤ 32·63·127 times a scale ≤ 127), per super-block one float multiply
/// by d·dx, and the mins (Q6_K: its offset of 32) come off through the bsums. Decode runs the one-token
/// kernel; prompt processing the four-token kernel, which rebuilds each chunk's quants once for 4 tokens.
/// </summary>
internal static unsafe class KQuantNeonKernels
{
    private const int G = KQuantPackedLayout.RowsPerGroup;
    private const int K = Q8Activations.SuperBlockSize;
    private const int TokenBlock = 64;

    public static void Run(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
    {
        switch (w.Type)
        {
            case GgmlType.Q4_K:
                Run<Q4KNeon>(w, input, rowStart, rowEnd, y, yStride);
                break;
            case GgmlType.Q5_K:
                Run<Q5KNeon>(w, input, rowStart, rowEnd, y, yStride);
                break;
            default:
                Run<Q6KNeon>(w, input, rowStart, rowEnd, y, yStride);
                break;
        }
    }

    private static void Run<TQ>(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
        where TQ : struct, INeonKQuants
    {
        var q = input.Quantized is { HasSuperBlocks: true } a
            ? a
            : throw new InvalidOperationException($"{w.Name}: {w.Type} weights need Q8_K-quantized activations.");
        var nsb = w.Columns / K;
        var groupBytes = (long)nsb * TQ.RecordBytes;
        var g0 = rowStart / G;
        var g1 = (rowEnd + G - 1) / G;
        var full = input.Tokens / 4 * 4;

        // As on x86: tokens in blocks whose activations stay in L2, one 8-row group meets every 4-token slice.
        for (var tb = 0; tb < full; tb += TokenBlock)
        {
            var tEnd = Math.Min(full, tb + TokenBlock);
            for (var g = g0; g < g1; g++)
            {
                for (var t = tb; t < tEnd; t += 4)
                {
                    Group4<TQ>(w.KPacked + (g * groupBytes), nsb, q, input.QuantRow0 + t, y + ((long)t * yStride), yStride, g * G, rowEnd);
                }
            }
        }

        for (var g = g0; g < g1 && full < input.Tokens; g++)
        {
            for (var t = full; t < input.Tokens; t++)
            {
                var row = input.QuantRow0 + t;
                var (lo, hi) = Group1<TQ>(w.KPacked + (g * groupBytes), nsb, q.KQuants(row), q.KScales(row), q.KSums(row));
                Store(lo, hi, y + ((long)t * yStride), g * G, rowEnd);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (Vector128<float> Lo, Vector128<float> Hi) Group1<TQ>(byte* rec, int nsb, sbyte* x, float* xd, int* xs)
        where TQ : struct, INeonKQuants
    {
        Vector128<float> sLo = default, sHi = default;
        for (var sb = 0; sb < nsb; sb++, rec += TQ.RecordBytes, x += K, xs += 16)
        {
            var scales = rec + TQ.QuantBytes;
            Vector128<int> iLo = default, iHi = default;
            for (var c = 0; c < 8; c++)
            {
                // The chunk's two 16-column halves (vectors 0–3 and 4–7) in separate chains; the vectors'
                // indices are literals so that TQ.U folds to a few fixed instructions.
                var xc = x + (32 * c);
                var (aLo, aHi) = Half(default, default, TQ.U(rec, c, 0, 0), TQ.U(rec, c, 0, 1), TQ.U(rec, c, 1, 0), TQ.U(rec, c, 1, 1),
                    TQ.U(rec, c, 2, 0), TQ.U(rec, c, 2, 1), TQ.U(rec, c, 3, 0), TQ.U(rec, c, 3, 1), xc);
                var (bLo, bHi) = Half(default, default, TQ.U(rec, c, 4, 0), TQ.U(rec, c, 4, 1), TQ.U(rec, c, 5, 0), TQ.U(rec, c, 5, 1),
                    TQ.U(rec, c, 6, 0), TQ.U(rec, c, 6, 1), TQ.U(rec, c, 7, 0), TQ.U(rec, c, 7, 1), xc + 16);
                if (TQ.Q6Like)
                {
                    // A scale per 16 columns: each half takes its own.
                    var (s0l, s0h) = Widen<TQ>(scales + (2 * c * G));
                    var (s1l, s1h) = Widen<TQ>(scales + (((2 * c) + 1) * G));
                    iLo = AdvSimd.MultiplyAdd(AdvSimd.MultiplyAdd(iLo, aLo, s0l), bLo, s1l);
                    iHi = AdvSimd.MultiplyAdd(AdvSimd.MultiplyAdd(iHi, aHi, s0h), bHi, s1h);
                }
                else
                {
                    var (scLo, scHi) = Widen<TQ>(scales + (c * G));
                    iLo = AdvSimd.MultiplyAdd(iLo, aLo + bLo, scLo);
                    iHi = AdvSimd.MultiplyAdd(iHi, aHi + bHi, scHi);
                }
            }

            (sLo, sHi) = Finish<TQ>(scales, iLo, iHi, xs, xd[sb], sLo, sHi);
        }

        return (sLo, sHi);
    }

    /// <summary>One group of 8 rows × 4 tokens (activation rows row0..row0+3): each chunk's quants are rebuilt once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group4<TQ>(byte* rec, int nsb, Q8Activations q, int row0, float* y, int yStride, int row, int rowEnd)
        where TQ : struct, INeonKQuants
    {
        sbyte* x0 = q.KQuants(row0), x1 = q.KQuants(row0 + 1), x2 = q.KQuants(row0 + 2), x3 = q.KQuants(row0 + 3);
        float* d0 = q.KScales(row0), d1 = q.KScales(row0 + 1), d2 = q.KScales(row0 + 2), d3 = q.KScales(row0 + 3);
        int* s0 = q.KSums(row0), s1 = q.KSums(row0 + 1), s2 = q.KSums(row0 + 2), s3 = q.KSums(row0 + 3);
        Vector128<float> y0l = default, y0h = default, y1l = default, y1h = default;
        Vector128<float> y2l = default, y2h = default, y3l = default, y3h = default;
        for (var sb = 0; sb < nsb; sb++, rec += TQ.RecordBytes)
        {
            var scales = rec + TQ.QuantBytes;
            Vector128<int> i0l = default, i0h = default, i1l = default, i1h = default;
            Vector128<int> i2l = default, i2h = default, i3l = default, i3h = default;
            var o = sb * K;
            for (var c = 0; c < 8; c++, o += 32)
            {
                // Columns 0–15 of the chunk (vectors 0–3) for the 4 tokens.
                var u0l = TQ.U(rec, c, 0, 0);
                var u0h = TQ.U(rec, c, 0, 1);
                var u1l = TQ.U(rec, c, 1, 0);
                var u1h = TQ.U(rec, c, 1, 1);
                var u2l = TQ.U(rec, c, 2, 0);
                var u2h = TQ.U(rec, c, 2, 1);
                var u3l = TQ.U(rec, c, 3, 0);
                var u3h = TQ.U(rec, c, 3, 1);
                var (t0l, t0h) = Half(default, default, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x0 + o);
                var (t1l, t1h) = Half(default, default, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x1 + o);
                var (t2l, t2h) = Half(default, default, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x2 + o);
                var (t3l, t3h) = Half(default, default, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x3 + o);
                if (TQ.Q6Like)
                {
                    // Q6_K scales each 16 columns on their own; Q4_K/Q5_K's halves share the chunk's scale and
                    // keep adding into the same temporaries.
                    var (sl, sh) = Widen<TQ>(scales + (2 * c * G));
                    (i0l, i0h) = Scale(i0l, i0h, t0l, t0h, sl, sh);
                    (i1l, i1h) = Scale(i1l, i1h, t1l, t1h, sl, sh);
                    (i2l, i2h) = Scale(i2l, i2h, t2l, t2h, sl, sh);
                    (i3l, i3h) = Scale(i3l, i3h, t3l, t3h, sl, sh);
                    t0l = t0h = t1l = t1h = t2l = t2h = t3l = t3h = default;
                }

                // Columns 16–31 (vectors 4–7).
                u0l = TQ.U(rec, c, 4, 0);
                u0h = TQ.U(rec, c, 4, 1);
                u1l = TQ.U(rec, c, 5, 0);
                u1h = TQ.U(rec, c, 5, 1);
                u2l = TQ.U(rec, c, 6, 0);
                u2h = TQ.U(rec, c, 6, 1);
                u3l = TQ.U(rec, c, 7, 0);
                u3h = TQ.U(rec, c, 7, 1);
                (t0l, t0h) = Half(t0l, t0h, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x0 + o + 16);
                (t1l, t1h) = Half(t1l, t1h, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x1 + o + 16);
                (t2l, t2h) = Half(t2l, t2h, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x2 + o + 16);
                (t3l, t3h) = Half(t3l, t3h, u0l, u0h, u1l, u1h, u2l, u2h, u3l, u3h, x3 + o + 16);
                var (scl, sch) = Widen<TQ>(scales + ((TQ.Q6Like ? (2 * c) + 1 : c) * G));
                (i0l, i0h) = Scale(i0l, i0h, t0l, t0h, scl, sch);
                (i1l, i1h) = Scale(i1l, i1h, t1l, t1h, scl, sch);
                (i2l, i2h) = Scale(i2l, i2h, t2l, t2h, scl, sch);
                (i3l, i3h) = Scale(i3l, i3h, t3l, t3h, scl, sch);
            }

            (y0l, y0h) = Finish<TQ>(scales, i0l, i0h, s0 + (16 * sb), d0[sb], y0l, y0h);
            (y1l, y1h) = Finish<TQ>(scales, i1l, i1h, s1 + (16 * sb), d1[sb], y1l, y1h);
            (y2l, y2h) = Finish<TQ>(scales, i2l, i2h, s2 + (16 * sb), d2[sb], y2l, y2h);
            (y3l, y3h) = Finish<TQ>(scales, i3l, i3h, s3 + (16 * sb), d3[sb], y3l, y3h);
        }

        Store(y0l, y0h, y, row, rowEnd);
        Store(y1l, y1h, y + yStride, row, rowEnd);
        Store(y2l, y2h, y + (2L * yStride), row, rowEnd);
        Store(y3l, y3h, y + (3L * yStride), row, rowEnd);
    }

    /// <summary>acc + t·scale for both row halves (<c>mla</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<int>, Vector128<int>) Scale(Vector128<int> lo, Vector128<int> hi, Vector128<int> tLo, Vector128<int> tHi,
        Vector128<int> sLo, Vector128<int> sHi) =>
        (AdvSimd.MultiplyAdd(lo, tLo, sLo), AdvSimd.MultiplyAdd(hi, tHi, sHi));

    /// <summary>acc + the sdot sums of one 16-column half of a chunk (4 vectors per row half) with one token's 16 activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<int>, Vector128<int>) Half(Vector128<int> lo, Vector128<int> hi,
        Vector128<sbyte> u0l, Vector128<sbyte> u0h, Vector128<sbyte> u1l, Vector128<sbyte> u1h,
        Vector128<sbyte> u2l, Vector128<sbyte> u2h, Vector128<sbyte> u3l, Vector128<sbyte> u3h, sbyte* x)
    {
        var v0 = Broadcast4(x);
        var v1 = Broadcast4(x + 4);
        var v2 = Broadcast4(x + 8);
        var v3 = Broadcast4(x + 12);
        lo = Dp.DotProduct(Dp.DotProduct(Dp.DotProduct(Dp.DotProduct(lo, u0l, v0), u1l, v1), u2l, v2), u3l, v3);
        hi = Dp.DotProduct(Dp.DotProduct(Dp.DotProduct(Dp.DotProduct(hi, u0h, v0), u1h, v1), u2h, v2), u3h, v3);
        return (lo, hi);
    }

    /// <summary>
    /// sum + dx·(d·isum − m·Σ_j min_j·bsum_j) for rows 0–3 and 4–7 of one record: Q6_K's mins are its 16
    /// scales against the bsums of 16; Q4_K/Q5_K's are their 8 mins against the bsums of 32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float>, Vector128<float>) Finish<TQ>(byte* scales, Vector128<int> iLo, Vector128<int> iHi, int* bs, float dx,
        Vector128<float> sLo, Vector128<float> sHi)
        where TQ : struct, INeonKQuants
    {
        Vector128<int> cLo = default, cHi = default;
        if (TQ.Q6Like)
        {
            for (var j = 0; j < 16; j++)
            {
                var (mLo, mHi) = Widen<TQ>(scales + (j * G));
                var b = Vector128.Create(bs[j]);
                cLo = AdvSimd.MultiplyAdd(cLo, mLo, b);
                cHi = AdvSimd.MultiplyAdd(cHi, mHi, b);
            }
        }
        else
        {
            for (var j = 0; j < 8; j++)
            {
                var (mLo, mHi) = Widen<TQ>(scales + ((8 + j) * G));
                var b = Vector128.Create(bs[2 * j] + bs[(2 * j) + 1]);
                cLo = AdvSimd.MultiplyAdd(cLo, mLo, b);
                cHi = AdvSimd.MultiplyAdd(cHi, mHi, b);
            }
        }

        var f = (float*)(scales + KQuantPackedLayout.ScaleBytes);
        var x = Vector128.Create(dx);
        var vLo = (Vector128.ConvertToSingle(iLo) * Vector128.Load(f)) - (Vector128.ConvertToSingle(cLo) * Vector128.Load(f + 8));
        var vHi = (Vector128.ConvertToSingle(iHi) * Vector128.Load(f + 4)) - (Vector128.ConvertToSingle(cHi) * Vector128.Load(f + 12));
        return (Vector128.FusedMultiplyAdd(vLo, x, sLo), Vector128.FusedMultiplyAdd(vHi, x, sHi));
    }

    /// <summary>8 scale bytes (row r at index r) as int32, rows 0–3 and 4–7 (Q6_K's are signed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<int> Lo, Vector128<int> Hi) Widen<TQ>(byte* p)
        where TQ : struct, INeonKQuants
    {
        if (TQ.Q6Like)
        {
            var s = Vector128.WidenLower(Vector128.CreateScalar(*(long*)p).AsSByte());
            return (Vector128.WidenLower(s), Vector128.WidenUpper(s));
        }

        var u = Vector128.WidenLower(Vector128.CreateScalar(*(ulong*)p).AsByte());
        return (Vector128.WidenLower(u).AsInt32(), Vector128.WidenUpper(u).AsInt32());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Broadcast4(sbyte* p) => Vector128.Create(*(int*)p).AsSByte();

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
}

/// <summary>How one record stores its quants, read as 128-bit halves (<see cref="KQuantPackedLayout"/>); k and half are constants after inlining.</summary>
internal unsafe interface INeonKQuants
{
    static abstract int QuantBytes { get; }

    static abstract int RecordBytes { get; }

    /// <summary>True for Q6_K: a scale per 16 columns, signed, and the scales double as the mins.</summary>
    static abstract bool Q6Like { get; }

    /// <summary>Half <paramref name="half"/> (0: rows 0–3, 1: rows 4–7) of vector k (0..7) of chunk c: columns 32c+4k..+3, unsigned quants as bytes.</summary>
    static abstract Vector128<sbyte> U(byte* rec, int c, int k, int half);
}

/// <summary>The low 4 bits of a quant vector half, from <see cref="KQuantPackedLayout"/>'s nibbles.</summary>
internal static unsafe class NeonKQuantBits
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Nibbles(byte* rec, int c, int k, int half) => k < 4
        ? Vector128.Load(rec + (128 * c) + (32 * k) + (16 * half)) & Vector128.Create((byte)0x0F)
        : Vector128.ShiftRightLogical(Vector128.Load(rec + (128 * c) + (32 * (k - 4)) + (16 * half)), 4);

    /// <summary>A plane's bytes shifted right by a constant (0: as they are; <c>ushr</c> has no shift by 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> ShiftRight(Vector128<byte> plane, int count) => count == 0 ? plane : Vector128.ShiftRightLogical(plane, count);

    /// <summary>Nibbles with <paramref name="high"/> (already at bits 0..) inserted above them: one <c>sli</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> Insert(Vector128<byte> nibbles, Vector128<byte> high) =>
        AdvSimd.ShiftLeftAndInsert(nibbles, high, 4).AsSByte();
}

internal readonly unsafe struct Q4KNeon : INeonKQuants
{
    public static int QuantBytes => KQuantPackedLayout.NibbleBytes;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> U(byte* rec, int c, int k, int half) => NeonKQuantBits.Nibbles(rec, c, k, half).AsSByte();
}

internal readonly unsafe struct Q5KNeon : INeonKQuants
{
    public static int QuantBytes => KQuantPackedLayout.NibbleBytes + 256;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => false;

    /// <summary>Bit k of the chunk's plane above the nibble.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> U(byte* rec, int c, int k, int half) => NeonKQuantBits.Insert(
        NeonKQuantBits.Nibbles(rec, c, k, half),
        NeonKQuantBits.ShiftRight(Vector128.Load(rec + KQuantPackedLayout.NibbleBytes + (32 * c) + (16 * half)), k) & Vector128.Create((byte)1));
}

internal readonly unsafe struct Q6KNeon : INeonKQuants
{
    public static int QuantBytes => KQuantPackedLayout.NibbleBytes + 512;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => true;

    /// <summary>Bits 2k', 2k'+1 of plane k / 4 (k' = k mod 4) above the nibble.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> U(byte* rec, int c, int k, int half) => NeonKQuantBits.Insert(
        NeonKQuantBits.Nibbles(rec, c, k, half),
        NeonKQuantBits.ShiftRight(Vector128.Load(rec + KQuantPackedLayout.NibbleBytes + (64 * c) + (32 * (k >> 2)) + (16 * half)), 2 * (k & 3)) & Vector128.Create((byte)3));
}
