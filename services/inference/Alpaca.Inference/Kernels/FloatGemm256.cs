using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Prompt-processing GEMM for float weights (F32 / F16 / BF16) on AVX2 + FMA: y[t, r] = Σ_k W[r, k]·x[t, k].
/// The AVX-512 <see cref="FloatGemm"/> with the blocking cut to AVX2's 16 ymm registers: four weight rows
/// are widened to float once into a per-thread panel, then 4 rows × 3 tokens register tiles (12
/// accumulators, 3 activation vectors, 1 weight vector) sweep the tokens of a 256-token block, one
/// 256-column slice of K at a time, so the panel slice (4 KB) stays in L1 while the activations' slice
/// (≤ 256 KB) streams from L2. Partial sums are parked in a per-thread buffer between slices.
/// Measured on the 110M F16 shape, pp128, one thread: 31 → 200 tokens/s against the row-at-a-time dot
/// products it replaces (docs/inference-engine.md).
/// </summary>
internal static unsafe class FloatGemm256
{
    public const int Rows = 4;
    public const int Tokens = 3;
    private const int SliceColumns = 256;
    private const int TokenBlock = 256;
    private const int Accumulators = Rows * Tokens;

    /// <summary>Per-thread floats: the 4-row panel plus the parked accumulators of one token block.</summary>
    public static int ScratchFloats(int columns) => Rows * columns + (TokenBlock / Tokens + 1) * Accumulators * 8;

    /// <summary>True when this kernel applies: AVX2 + FMA, whole 8-float vectors per row, at least one tile of tokens.</summary>
    public static bool Applies(int columns, int tokens) => Avx2.IsSupported && Fma.IsSupported && columns % 8 == 0 && tokens >= Tokens;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TE>(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* scratch)
        where TE : struct, IWeightElement
    {
        var k = w.Columns;
        var panel = scratch;

        // Vector256 stores need no alignment, but keep the parked sums on a 32-byte boundary anyway.
        var parked = (Vector256<float>*)(((nint)(scratch + Rows * k) + 31) & ~(nint)31);
        var tokens = input.Tokens;
        for (var tb = 0; tb < tokens; tb += TokenBlock)
        {
            var tEnd = Math.Min(tokens, tb + TokenBlock);
            var triples = (tEnd - tb) / Tokens;
            var r = rowStart;
            for (; r + Rows <= rowEnd; r += Rows)
            {
                byte* rows;
                long rowBytes;
                if (TE.Size == sizeof(float))
                {
                    rows = w.Data + r * w.RowBytes;
                    rowBytes = w.RowBytes;
                }
                else
                {
                    for (var i = 0; i < Rows; i++)
                    {
                        Widen<TE>(w.Data + (r + i) * w.RowBytes, panel + (long)i * k, k);
                    }

                    rows = (byte*)panel;
                    rowBytes = (long)k * sizeof(float);
                }

                for (var k0 = 0; k0 < k; k0 += SliceColumns)
                {
                    var k1 = Math.Min(k, k0 + SliceColumns);
                    for (var j = 0; j < triples; j++)
                    {
                        var t = tb + j * Tokens;
                        Tile(rows, rowBytes, input.Row(t), input.Stride, k0, k1, parked + j * Accumulators, k0 == 0, k1 == k, y + (long)t * yStride + r, yStride);
                    }
                }

                // Tokens left over from the triples.
                for (var t = tb + triples * Tokens; t < tEnd; t++)
                {
                    for (var i = 0; i < Rows; i++)
                    {
                        y[(long)t * yStride + r + i] = Dot((float*)(rows + i * rowBytes), input.Row(t), k);
                    }
                }
            }

            for (; r < rowEnd; r++)
            {
                for (var t = tb; t < tEnd; t++)
                {
                    y[(long)t * yStride + r] = DotT<TE>(w.Data + r * w.RowBytes, input.Row(t), k);
                }
            }
        }
    }

    /// <summary>
    /// Rows × Tokens accumulators over columns [k0, k1): started from zero or from the parked sums, and
    /// either parked again or, after the last slice, summed across lanes into y.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(byte* rows, long rowBytes, float* x, int xStride, int k0, int k1, Vector256<float>* park, bool first, bool last, float* y, int yStride)
    {
        float* w0 = (float*)rows, w1 = (float*)(rows + rowBytes), w2 = (float*)(rows + 2 * rowBytes), w3 = (float*)(rows + 3 * rowBytes);
        float* x0 = x, x1 = x + xStride, x2 = x + 2L * xStride;
        Vector256<float> a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32;
        if (first)
        {
            a00 = a01 = a02 = a10 = a11 = a12 = a20 = a21 = a22 = a30 = a31 = a32 = default;
        }
        else
        {
            a00 = park[0]; a01 = park[1]; a02 = park[2]; a10 = park[3]; a11 = park[4]; a12 = park[5];
            a20 = park[6]; a21 = park[7]; a22 = park[8]; a30 = park[9]; a31 = park[10]; a32 = park[11];
        }

        for (var i = k0; i < k1; i += 8)
        {
            var v0 = Vector256.Load(x0 + i);
            var v1 = Vector256.Load(x1 + i);
            var v2 = Vector256.Load(x2 + i);
            var r = Vector256.Load(w0 + i);
            a00 = Fma.MultiplyAdd(r, v0, a00);
            a01 = Fma.MultiplyAdd(r, v1, a01);
            a02 = Fma.MultiplyAdd(r, v2, a02);
            r = Vector256.Load(w1 + i);
            a10 = Fma.MultiplyAdd(r, v0, a10);
            a11 = Fma.MultiplyAdd(r, v1, a11);
            a12 = Fma.MultiplyAdd(r, v2, a12);
            r = Vector256.Load(w2 + i);
            a20 = Fma.MultiplyAdd(r, v0, a20);
            a21 = Fma.MultiplyAdd(r, v1, a21);
            a22 = Fma.MultiplyAdd(r, v2, a22);
            r = Vector256.Load(w3 + i);
            a30 = Fma.MultiplyAdd(r, v0, a30);
            a31 = Fma.MultiplyAdd(r, v1, a31);
            a32 = Fma.MultiplyAdd(r, v2, a32);
        }

        if (!last)
        {
            park[0] = a00; park[1] = a01; park[2] = a02; park[3] = a10; park[4] = a11; park[5] = a12;
            park[6] = a20; park[7] = a21; park[8] = a22; park[9] = a30; park[10] = a31; park[11] = a32;
            return;
        }

        Store4(y, a00, a10, a20, a30);
        Store4(y + yStride, a01, a11, a21, a31);
        Store4(y + 2L * yStride, a02, a12, a22, a32);
    }

    /// <summary>
    /// Four lane-sums into y[0..4): two rounds of horizontal adds pair the lanes of all four vectors at
    /// once, then the two 128-bit halves are added (5 ops for four outputs instead of ~4 each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* y, Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        var ab = Avx.HorizontalAdd(a, b);   // a01 a23 b01 b23 | a45 a67 b45 b67
        var cd = Avx.HorizontalAdd(c, d);   // c01 c23 d01 d23 | c45 c67 d45 d67
        var abcd = Avx.HorizontalAdd(ab, cd); // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
        (abcd.GetLower() + abcd.GetUpper()).Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Widen<TE>(byte* src, float* dst, int k)
        where TE : struct, IWeightElement
    {
        for (var i = 0; i < k; i += 8)
        {
            TE.Load8(src + i * TE.Size).Store(dst + i);
        }
    }

    private static float Dot(float* w, float* x, int k)
    {
        var acc = Vector256<float>.Zero;
        for (var i = 0; i < k; i += 8)
        {
            acc = Fma.MultiplyAdd(Vector256.Load(w + i), Vector256.Load(x + i), acc);
        }

        return Vector256.Sum(acc);
    }

    private static float DotT<TE>(byte* w, float* x, int k)
        where TE : struct, IWeightElement
    {
        var acc = Vector256<float>.Zero;
        for (var i = 0; i < k; i += 8)
        {
            acc = Fma.MultiplyAdd(TE.Load8(w + i * TE.Size), Vector256.Load(x + i), acc);
        }

        return Vector256.Sum(acc);
    }
}
