using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Alpaca.Llm.Tensors;
using static Alpaca.Inference.Kernels.Vector256Rows;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Q4_K / Q5_K / Q6_K weights (repacked, <see cref="KQuantPackedLayout"/>) × Q8_K activations on x86: one
/// kernel for the three types (they differ only in how a chunk's quants are stored, <see cref="IKQuants"/>:
/// Q5_K/Q6_K rebuild each quant vector from its nibbles and a bit plane with a 16-bit shift, two
/// <c>vpand</c> and a <c>vpor</c>, so decode streams ~1.05× the GGUF bytes instead of whole bytes per
/// quant) and the two instruction sets (<see cref="IIntDot"/>). For each group of 8 rows and each 32-column chunk,
/// a broadcast of 4 activation bytes meets 4 columns of all 8 rows: <c>vpmaddubsw</c>, then
/// <c>vpmaddwd</c> (AVX2) or <c>vpdpwssd</c> (AVX-VNNI) with the 8 rows' sub-block scales (stored as bytes, widened to int16 pairs by one <c>vpshufb</c>), leaves
/// row r's scaled sum in int32 lane r — no horizontal sums, no scale decode. Per super-block the int32
/// sums become float once and take d·dx; the mins (Q6_K: its offset of 32) come off through the
/// activations' bsums, 8 rows at a time. Decode (and the tokens left over from 4-token slices) runs the
/// one-token kernel; prompt processing the four-token kernel, which unpacks each chunk once for 4 tokens.
/// u ≤ 63 and |x| ≤ 127 keep the int16 pair sums from saturating (2·63·127 &lt; 2¹⁵), and a super-block's
/// int32 sum stays below 2³¹ (256·63·127·127).
/// </summary>
internal static unsafe class KQuantPackedKernels
{
    private const int G = KQuantPackedLayout.RowsPerGroup;
    private const int K = Q8Activations.SuperBlockSize;
    private const int TokenBlock = 128;

    // 4-token slices in a token block from which Q5_K/Q6_K prompts read expanded records.
    private const int ExpandSlices = 4;

    // As in QuantKernels: the one-token kernel prefetches the packed stream 4 KB ahead.
    private const int PrefetchDistance = 4096;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TDot>(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
        where TDot : struct, IIntDot
    {
        switch (w.Type)
        {
            case GgmlType.Q4_K:
                Run<TDot, Q4KQuants, Q4KQuants>(w, input, rowStart, rowEnd, y, yStride);
                break;
            case GgmlType.Q5_K:
                Run<TDot, Q5KQuants, Q5KBytes>(w, input, rowStart, rowEnd, y, yStride);
                break;
            default:
                Run<TDot, Q6KQuants, Q6KBytes>(w, input, rowStart, rowEnd, y, yStride);
                break;
        }
    }

    /// <summary>
    /// TQ: the records as stored; TX: the same records with one byte per quant (<see cref="Expand{TQ}"/>), which the
    /// prompt kernel reads when a token block has enough 4-token slices to repay rebuilding the quants once
    /// (Q4_K: TX = TQ, its nibbles are read directly).
    /// </summary>
    private static void Run<TDot, TQ, TX>(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
        where TDot : struct, IIntDot
        where TQ : struct, IKQuants
        where TX : struct, IKQuants
    {
        var q = input.Quantized is { HasSuperBlocks: true } a
            ? a
            : throw new InvalidOperationException($"{w.Name}: {w.Type} weights need Q8_K-quantized activations.");
        var nsb = w.Columns / K;
        var groupBytes = (long)nsb * TQ.RecordBytes;
        var g0 = rowStart / G;
        var g1 = (rowEnd + G - 1) / G;
        var full = input.Tokens / 4 * 4;

        // Tokens in blocks whose activations stay in L2; inside, one 8-row group (L1) meets every 4-token
        // slice of the block before the next group is read.
        // Q5_K/Q6_K: rebuilding the quants from nibbles and bit planes costs ~5 ops per vector, as much as the
        // vector's multiplies for 1–2 tokens; with ≥ ExpandSlices slices in a block, each group's records are
        // expanded to bytes once (L1/L2 scratch) and every slice reads those.
        for (var tb = 0; tb < full; tb += TokenBlock)
        {
            var tEnd = Math.Min(full, tb + TokenBlock);
            var expand = TX.QuantBytes != TQ.QuantBytes && tEnd - tb >= 4 * ExpandSlices;
            var scratch = expand ? Scratch(nsb * TX.RecordBytes) : null;
            for (var g = g0; g < g1; g++)
            {
                var recs = w.KPacked + (g * groupBytes);
                if (expand)
                {
                    Expand<TQ>(recs, nsb, scratch, TX.RecordBytes);
                }

                for (var t = tb; t < tEnd; t += 4)
                {
                    if (expand)
                    {
                        Group4<TDot, TX>(scratch, nsb, q, input.QuantRow0 + t, y + ((long)t * yStride), yStride, g * G, rowEnd);
                    }
                    else
                    {
                        Group4<TDot, TQ>(recs, nsb, q, input.QuantRow0 + t, y + ((long)t * yStride), yStride, g * G, rowEnd);
                    }
                }
            }
        }

        // Left-over tokens (all of them for decode): groups outside, so a group is read from DRAM once.
        for (var g = g0; g < g1 && full < input.Tokens; g++)
        {
            for (var t = full; t < input.Tokens; t++)
            {
                var row = input.QuantRow0 + t;
                var sum = Group1<TDot, TQ>(w.KPacked + (g * groupBytes), nsb, q.KQuants(row), q.KScales(row), q.KSums(row));
                Store(sum, y + ((long)t * yStride), g * G, rowEnd);
            }
        }
    }

    /// <summary>
    /// Writes the nsb records of one group with every quant as a byte (vector k of chunk c at 256c + 32k,
    /// as <see cref="Q5KBytes"/>/<see cref="Q6KBytes"/> read them), scales and floats copied after.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Expand<TQ>(byte* src, int nsb, byte* dst, int dstRecordBytes)
        where TQ : struct, IKQuants
    {
        const int tail = KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;
        for (var sb = 0; sb < nsb; sb++, src += TQ.RecordBytes, dst += dstRecordBytes)
        {
            for (var c = 0; c < 8; c++)
            {
                var o = dst + (256 * c);
                TQ.U(src, c, 0).Store(o);
                TQ.U(src, c, 1).Store(o + 32);
                TQ.U(src, c, 2).Store(o + 64);
                TQ.U(src, c, 3).Store(o + 96);
                TQ.U(src, c, 4).Store(o + 128);
                TQ.U(src, c, 5).Store(o + 160);
                TQ.U(src, c, 6).Store(o + 192);
                TQ.U(src, c, 7).Store(o + 224);
            }

            Buffer.MemoryCopy(src + TQ.QuantBytes, dst + 2048, tail, tail);
        }
    }

    // Per-thread scratch for expanded records, grown on demand and kept for the thread's life (the
    // engine's workers are long-lived): 2240 bytes per super-block of a row group.
    [ThreadStatic]
    private static byte* s_scratch;

    [ThreadStatic]
    private static int s_scratchBytes;

    private static byte* Scratch(int bytes)
    {
        if (s_scratchBytes < bytes)
        {
            NativeMemory.AlignedFree(s_scratch);
            s_scratch = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            s_scratchBytes = bytes;
        }

        return s_scratch;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Group1<TDot, TQ>(byte* rec, int nsb, sbyte* x, float* xd, int* xs)
        where TDot : struct, IIntDot
        where TQ : struct, IKQuants
    {
        var sum = Vector256<float>.Zero;
        for (var sb = 0; sb < nsb; sb++, rec += TQ.RecordBytes, x += K, xs += 16)
        {
            for (var o = 0; o < TQ.RecordBytes; o += 64)
            {
                Sse.Prefetch0(rec + PrefetchDistance + o);
            }

            var scales = rec + TQ.QuantBytes;
            var isum = Vector256<int>.Zero;
            for (var c = 0; c < 8; c++)
            {
                var xc = x + (32 * c);
                var (slo, shi) = ChunkScales<TQ>(scales, c);
                // Two short chains per chunk, added in: vpdpwssd's latency would serialise one long chain.
                var lo = Half<TDot, TQ>(Vector256<int>.Zero, TQ.U(rec, c, 0), TQ.U(rec, c, 1), TQ.U(rec, c, 2), TQ.U(rec, c, 3), xc, slo);
                var hi = Half<TDot, TQ>(Vector256<int>.Zero, TQ.U(rec, c, 4), TQ.U(rec, c, 5), TQ.U(rec, c, 6), TQ.U(rec, c, 7), xc + 16, shi);
                isum += lo + hi;
            }

            sum = Finish<TQ>(scales, isum, xs, xd[sb], sum);
        }

        return sum;
    }

    /// <summary>One group of 8 rows × 4 tokens (activation rows row0..row0+3): each chunk is unpacked once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group4<TDot, TQ>(byte* rec, int nsb, Q8Activations q, int row0, float* y, int yStride, int row, int rowEnd)
        where TDot : struct, IIntDot
        where TQ : struct, IKQuants
    {
        sbyte* x0 = q.KQuants(row0), x1 = q.KQuants(row0 + 1), x2 = q.KQuants(row0 + 2), x3 = q.KQuants(row0 + 3);
        float* d0 = q.KScales(row0), d1 = q.KScales(row0 + 1), d2 = q.KScales(row0 + 2), d3 = q.KScales(row0 + 3);
        int* s0 = q.KSums(row0), s1 = q.KSums(row0 + 1), s2 = q.KSums(row0 + 2), s3 = q.KSums(row0 + 3);
        Vector256<float> y0 = default, y1 = default, y2 = default, y3 = default;
        for (var sb = 0; sb < nsb; sb++, rec += TQ.RecordBytes)
        {
            var scales = rec + TQ.QuantBytes;
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            var o = sb * K;
            for (var c = 0; c < 8; c++, o += 32)
            {
                var (slo, shi) = ChunkScales<TQ>(scales, c);
                var u0 = TQ.U(rec, c, 0);
                var u1 = TQ.U(rec, c, 1);
                var u2 = TQ.U(rec, c, 2);
                var u3 = TQ.U(rec, c, 3);
                i0 = Half<TDot, TQ>(i0, u0, u1, u2, u3, x0 + o, slo);
                i1 = Half<TDot, TQ>(i1, u0, u1, u2, u3, x1 + o, slo);
                i2 = Half<TDot, TQ>(i2, u0, u1, u2, u3, x2 + o, slo);
                i3 = Half<TDot, TQ>(i3, u0, u1, u2, u3, x3 + o, slo);
                u0 = TQ.U(rec, c, 4);
                u1 = TQ.U(rec, c, 5);
                u2 = TQ.U(rec, c, 6);
                u3 = TQ.U(rec, c, 7);
                i0 = Half<TDot, TQ>(i0, u0, u1, u2, u3, x0 + o + 16, shi);
                i1 = Half<TDot, TQ>(i1, u0, u1, u2, u3, x1 + o + 16, shi);
                i2 = Half<TDot, TQ>(i2, u0, u1, u2, u3, x2 + o + 16, shi);
                i3 = Half<TDot, TQ>(i3, u0, u1, u2, u3, x3 + o + 16, shi);
            }

            y0 = Finish<TQ>(scales, i0, s0 + (16 * sb), d0[sb], y0);
            y1 = Finish<TQ>(scales, i1, s1 + (16 * sb), d1[sb], y1);
            y2 = Finish<TQ>(scales, i2, s2 + (16 * sb), d2[sb], y2);
            y3 = Finish<TQ>(scales, i3, s3 + (16 * sb), d3[sb], y3);
        }

        Store(y0, y, row, rowEnd);
        Store(y1, y + yStride, row, rowEnd);
        Store(y2, y + (2L * yStride), row, rowEnd);
        Store(y3, y + (3L * yStride), row, rowEnd);
    }

    /// <summary>
    /// acc + the 8 rows' scaled dot products over one 16-column half of a chunk (u0..u3 = its 4 vectors,
    /// x its 16 activations). The <c>vpmaddubsw</c> pair sums are added in int16 before the one scale
    /// multiply: 4 of them for Q4_K/Q5_K (4·2·31·127 &lt; 2¹⁵), 2 for Q6_K (2·2·63·127 &lt; 2¹⁵), which cuts
    /// the multiplies — the kernel's bottleneck — from 8 to 5 (6) per 4 vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Half<TDot, TQ>(
        Vector256<int> acc, Vector256<byte> u0, Vector256<byte> u1, Vector256<byte> u2, Vector256<byte> u3, sbyte* x, Vector256<short> scale)
        where TDot : struct, IIntDot
        where TQ : struct, IKQuants
    {
        var p0 = Avx2.MultiplyAddAdjacent(u0, Broadcast4(x));
        var p1 = Avx2.MultiplyAddAdjacent(u1, Broadcast4(x + 4));
        var p2 = Avx2.MultiplyAddAdjacent(u2, Broadcast4(x + 8));
        var p3 = Avx2.MultiplyAddAdjacent(u3, Broadcast4(x + 12));
        return TQ.Q6Like
            ? TDot.AddScaled(TDot.AddScaled(acc, p0 + p1, scale), p2 + p3, scale)
            : TDot.AddScaled(acc, (p0 + p1) + (p2 + p3), scale);
    }

    /// <summary>
    /// sum + dx·(d·isum − m·Σ_j min_j·bsum_j) for the 8 rows of one record: Q6_K's mins are its 16 scales
    /// against the bsums of 16; Q4_K/Q5_K's are their 8 mins against the bsums of 32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish<TQ>(byte* scales, Vector256<int> isum, int* bs, float dx, Vector256<float> sum)
        where TQ : struct, IKQuants
    {
        var corr = Vector256<int>.Zero;
        if (TQ.Q6Like)
        {
            for (var j = 0; j < 16; j++)
            {
                corr += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32((sbyte*)scales + (j * G)), Vector256.Create(bs[j]));
            }
        }
        else
        {
            var mins = scales + (8 * G);
            for (var j = 0; j < 8; j++)
            {
                corr += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(mins + (j * G)), Vector256.Create(bs[2 * j] + bs[(2 * j) + 1]));
            }
        }

        var f = (float*)(scales + KQuantPackedLayout.ScaleBytes);
        var v = (Avx.ConvertToVector256Single(isum) * Vector256.Load(f)) - (Avx.ConvertToVector256Single(corr) * Vector256.Load(f + G));
        return Fma.MultiplyAdd(v, Vector256.Create(dx), sum);
    }

    /// <summary>The int16 scale pairs of chunk c's two 16-column halves (row r in int32 lane r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<short> Low, Vector256<short> High) ChunkScales<TQ>(byte* scales, int c)
        where TQ : struct, IKQuants
    {
        if (TQ.Q6Like)
        {
            return (SignedPairs(scales + (2 * c * G)), SignedPairs(scales + (((2 * c) + 1) * G)));
        }

        var s = UnsignedPairs(scales + (c * G));
        return (s, s);
    }

    // 8 scale bytes (row r at index r) → each row's value in both int16 halves of int32 lane r: one
    // broadcast and one vpshufb within each 128-bit half (rows 0–3 low, 4–7 high; index 0x80 writes 0).
    // Q4_K/Q5_K's 6-bit scales are zero-extended by the shuffle itself; Q6_K's int8 scales land in the
    // high byte of each int16 and an arithmetic shift by 8 sign-extends them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> UnsignedPairs(byte* p) =>
        Avx2.Shuffle(Avx2.BroadcastScalarToVector256((ulong*)p).AsByte(), Vector256.Create(
            (byte)0, 0x80, 0, 0x80, 1, 0x80, 1, 0x80, 2, 0x80, 2, 0x80, 3, 0x80, 3, 0x80,
            4, 0x80, 4, 0x80, 5, 0x80, 5, 0x80, 6, 0x80, 6, 0x80, 7, 0x80, 7, 0x80)).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SignedPairs(byte* p) =>
        Avx2.ShiftRightArithmetic(Avx2.Shuffle(Avx2.BroadcastScalarToVector256((ulong*)p).AsByte(), Vector256.Create(
            (byte)0x80, 0, 0x80, 0, 0x80, 1, 0x80, 1, 0x80, 2, 0x80, 2, 0x80, 3, 0x80, 3,
            0x80, 4, 0x80, 4, 0x80, 5, 0x80, 5, 0x80, 6, 0x80, 6, 0x80, 7, 0x80, 7)).AsInt16(), 8);
}

/// <summary>How one record stores its quants (<see cref="KQuantPackedLayout"/>); the kernels are generic over it.</summary>
internal unsafe interface IKQuants
{
    static abstract int QuantBytes { get; }

    static abstract int RecordBytes { get; }

    /// <summary>True for Q6_K: a scale per 16 columns, the scales double as the mins, and u ≤ 63 allows only 2 int16 pair sums to be added.</summary>
    static abstract bool Q6Like { get; }

    /// <summary>Vector k (0..7) of chunk c of a record: columns 32c+4k..32c+4k+3 of the 8 rows, unsigned.</summary>
    static abstract Vector256<byte> U(byte* rec, int c, int k);
}

/// <summary>The nibbles and bit planes of <see cref="KQuantPackedLayout"/> in AVX2 registers (k is a constant after inlining).</summary>
internal static unsafe class KQuantBits
{
    /// <summary>The low 4 bits of vector k of chunk c: low nibbles of nibble vector k, or high nibbles of vector k − 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(byte* rec, int c, int k) => k < 4
        ? Vector256.Load(rec + (128 * c) + (32 * k)) & Vector256.Create((byte)0x0F)
        : Avx2.ShiftRightLogical(Vector256.Load(rec + (128 * c) + (32 * (k - 4))).AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);

    /// <summary>
    /// A plane shifted by <paramref name="left"/> bits (−3..4; negative: right) in 16-bit lanes: the bits the caller
    /// masks (4, 5 of each byte) come from the same byte, since the shift is at most 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Shift(Vector256<byte> plane, int left) => left switch
    {
        4 => Avx2.ShiftLeftLogical(plane.AsUInt16(), 4).AsByte(),
        3 => Avx2.ShiftLeftLogical(plane.AsUInt16(), 3).AsByte(),
        2 => Avx2.ShiftLeftLogical(plane.AsUInt16(), 2).AsByte(),
        1 => Avx2.ShiftLeftLogical(plane.AsUInt16(), 1).AsByte(),
        0 => plane,
        -1 => Avx2.ShiftRightLogical(plane.AsUInt16(), 1).AsByte(),
        -2 => Avx2.ShiftRightLogical(plane.AsUInt16(), 2).AsByte(),
        -3 => Avx2.ShiftRightLogical(plane.AsUInt16(), 3).AsByte(),
        _ => Avx2.ShiftRightLogical(plane.AsUInt16(), 4).AsByte(),
    };
}

internal readonly unsafe struct Q4KQuants : IKQuants
{
    public static int QuantBytes => KQuantPackedLayout.NibbleBytes;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> U(byte* rec, int c, int k) => KQuantBits.Nibbles(rec, c, k);
}

internal readonly unsafe struct Q5KQuants : IKQuants
{
    public static int QuantBytes => KQuantPackedLayout.NibbleBytes + 256;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => false;

    /// <summary>Nibble | bit k of the chunk's plane moved to bit 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> U(byte* rec, int c, int k) =>
        KQuantBits.Nibbles(rec, c, k)
        | (KQuantBits.Shift(Vector256.Load(rec + KQuantPackedLayout.NibbleBytes + (32 * c)), 4 - k) & Vector256.Create((byte)0x10));
}

internal readonly unsafe struct Q6KQuants : IKQuants
{
    public static int QuantBytes => KQuantPackedLayout.NibbleBytes + 512;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => true;

    /// <summary>Nibble | bits 2k', 2k'+1 of plane k / 4 (k' = k mod 4) moved to bits 4, 5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> U(byte* rec, int c, int k) =>
        KQuantBits.Nibbles(rec, c, k)
        | (KQuantBits.Shift(Vector256.Load(rec + KQuantPackedLayout.NibbleBytes + (64 * c) + (32 * (k >> 2))), 4 - (2 * (k & 3))) & Vector256.Create((byte)0x30));
}

/// <summary>Q5_K records expanded to one byte per quant (the prompt kernel's scratch, <c>KQuantPackedKernels.Expand</c>).</summary>
internal readonly unsafe struct Q5KBytes : IKQuants
{
    public static int QuantBytes => 2048;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> U(byte* rec, int c, int k) => Vector256.Load(rec + (256 * c) + (32 * k));
}

/// <summary>Q6_K records expanded to one byte per quant.</summary>
internal readonly unsafe struct Q6KBytes : IKQuants
{
    public static int QuantBytes => 2048;

    public static int RecordBytes => QuantBytes + KQuantPackedLayout.ScaleBytes + KQuantPackedLayout.FloatBytes;

    public static bool Q6Like => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> U(byte* rec, int c, int k) => Vector256.Load(rec + (256 * c) + (32 * k));
}
