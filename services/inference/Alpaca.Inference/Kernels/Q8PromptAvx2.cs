using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Alpaca.Inference.Kernels.Vector256Rows;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The plain-AVX2 (no VNNI) four-token Q8_0 kernel: 8 packed rows × 4 activation rows. Without
/// <c>vpdpbusd</c> a Q8 dot product is ggml's <c>|q| · sign(x, q)</c> through <c>vpmaddubsw</c> (unsigned ×
/// signed; q + 128 would saturate its int16 pair sums) and <c>vpmaddwd</c> by ones. The generic kernel
/// (<see cref="QuantKernels"/> with <see cref="Avx2Dot"/>) redid the weight side — the XOR that turns the
/// stored q + 128 back into q, and <c>|q|</c> — for every token, and the JIT spilled its 8 live weight
/// vectors × 4 tokens to the stack. Here the block is walked chunk by chunk (4 columns × 8 rows, one
/// 32-byte load): q and |q| are made once per chunk and meet the 4 tokens' broadcasts, so a token costs
/// <c>vpsignb</c>, <c>vpmaddubsw</c>, <c>vpmaddwd</c>, <c>vpaddd</c> per chunk (6 before) and everything
/// stays in 14 of the 16 ymm registers.
/// </summary>
internal static unsafe class Q8PromptAvx2
{
    private const int G = PackedQuantLayout.RowsPerGroup;

    // As QuantKernels: few-token batches stream this group's weights from DRAM too.
    private const int PrefetchDistance = 4096;

    /// <summary>One group of 8 rows × activation rows row0..row0+3; the outputs of token t go to y + t·yStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Group4(WeightMatrix w, Q8Activations q, int row0, int g, float* y, int yStride, int rowEnd)
    {
        var nb = w.Blocks;
        var wq = w.PackedQuants + (long)g * nb * 256;
        var ws = w.PackedScales + (long)g * nb * G;
        // Token t's quants are x + t·k (rows of one buffer): two strides in registers instead of four
        // pointers, which left too few general registers and put the pointers on the stack.
        var x = q.Quants(row0);
        long k = q.Columns, k3 = 3 * k;
        float* d0 = q.Scales(row0), d1 = q.Scales(row0 + 1), d2 = q.Scales(row0 + 2), d3 = q.Scales(row0 + 3);
        var flip = Vector256.Create((byte)0x80);
        var ones = Vector256.Create((short)1);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var b = 0; b < nb; b++, wq += 256, ws += G, x += 32)
        {
            Sse.Prefetch0(wq + PrefetchDistance);
            Sse.Prefetch0(wq + PrefetchDistance + 64);
            Sse.Prefetch0(wq + PrefetchDistance + 128);
            Sse.Prefetch0(wq + PrefetchDistance + 192);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            Chunk(wq, x, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            Chunk(wq + 32, x + 4, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            Chunk(wq + 64, x + 8, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            Chunk(wq + 96, x + 12, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            Chunk(wq + 128, x + 16, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            Chunk(wq + 160, x + 20, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            Chunk(wq + 192, x + 24, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            Chunk(wq + 224, x + 28, k, k3, flip, ones, ref i0, ref i1, ref i2, ref i3);
            var dw = HalfVectors.HalfToFloat(Vector128.Load(ws));
            s0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i0), dw * Vector256.Create(d0[b]), s0);
            s1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i1), dw * Vector256.Create(d1[b]), s1);
            s2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i2), dw * Vector256.Create(d2[b]), s2);
            s3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i3), dw * Vector256.Create(d3[b]), s3);
        }

        Store(s0, y, g * G, rowEnd);
        Store(s1, y + yStride, g * G, rowEnd);
        Store(s2, y + 2L * yStride, g * G, rowEnd);
        Store(s3, y + 3L * yStride, g * G, rowEnd);
    }

    /// <summary>
    /// One chunk (4 columns × 8 rows) against the 4 tokens at x, x + k, x + 2k, x + 3k: q and |q| once,
    /// then per token int32 lane r += Σ q[r][c]·x[c] as |q|·sign(x, q).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk(
        byte* wq, sbyte* x, long k, long k3, Vector256<byte> flip, Vector256<short> ones,
        ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3)
    {
        var v = (Vector256.Load(wq) ^ flip).AsSByte();
        var a = Avx2.Abs(v);
        i0 += Dot(a, v, x, ones);
        i1 += Dot(a, v, x + k, ones);
        i2 += Dot(a, v, x + 2 * k, ones);
        i3 += Dot(a, v, x + k3, ones);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<byte> absQ, Vector256<sbyte> q, sbyte* x, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absQ, Avx2.Sign(Broadcast4(x), q)), ones);
}
