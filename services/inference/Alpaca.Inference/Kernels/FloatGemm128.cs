using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Prompt-processing GEMM over 128-bit vectors for the paths without AVX (ARM64's 32 NEON registers
/// above all) and for weights decoded a row at a time (K-quants): y[t, r] = Σ_k W[r, k]·x[t, k].
/// Eight weight rows are decoded to float once into a per-thread panel (<see cref="Quantizer.Dequantize"/>,
/// so any weight type works), then 8 rows × 3 tokens register tiles (24 accumulators, 3 activation
/// vectors, 1 weight vector: 28 of ARM64's 32) sweep the tokens of a 128-token block, one 512-column
/// slice of K at a time (a 16 KB panel slice in L1), with partial sums parked between slices.
/// </summary>
internal static unsafe class FloatGemm128
{
    public const int Rows = 8;
    public const int Tokens = 3;
    private const int SliceColumns = 512;
    private const int TokenBlock = 128;
    private const int Accumulators = Rows * Tokens;

    /// <summary>Per-thread floats: the 8-row panel plus the parked accumulators of one token block (and alignment slack).</summary>
    public static int ScratchFloats(int columns) => Rows * columns + (TokenBlock / Tokens + 1) * Accumulators * 4 + 4;

    /// <summary>True when this kernel applies: whole 4-float vectors per row, at least one tile of tokens.</summary>
    public static bool Applies(int columns, int tokens) => columns % 4 == 0 && tokens >= Tokens;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* scratch)
    {
        var k = w.Columns;
        var panel = scratch;
        var parked = (Vector128<float>*)(((nint)(scratch + Rows * k) + 15) & ~(nint)15);
        var tokens = input.Tokens;
        for (var tb = 0; tb < tokens; tb += TokenBlock)
        {
            var tEnd = Math.Min(tokens, tb + TokenBlock);
            var triples = (tEnd - tb) / Tokens;
            for (var r = rowStart; r < rowEnd; r += Rows)
            {
                // A last group of fewer than 8 rows is padded with zero rows, whose results are dropped.
                var n = Math.Min(Rows, rowEnd - r);
                for (var i = 0; i < Rows; i++)
                {
                    var dst = new Span<float>(panel + (long)i * k, k);
                    if (i < n)
                    {
                        Quantizer.Dequantize(w.Type, w.Row(r + i), dst);
                    }
                    else
                    {
                        dst.Clear();
                    }
                }

                for (var k0 = 0; k0 < k; k0 += SliceColumns)
                {
                    var k1 = Math.Min(k, k0 + SliceColumns);
                    for (var j = 0; j < triples; j++)
                    {
                        var t = tb + j * Tokens;
                        Tile(panel, k, input.Row(t), input.Stride, k0, k1, parked + j * Accumulators, k0 == 0, k1 == k, y + (long)t * yStride + r, yStride, n);
                    }
                }

                // Tokens left over from the triples.
                for (var t = tb + triples * Tokens; t < tEnd; t++)
                {
                    for (var i = 0; i < n; i++)
                    {
                        y[(long)t * yStride + r + i] = Dot(panel + (long)i * k, input.Row(t), k);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(float* panel, int k, float* x, int xStride, int k0, int k1, Vector128<float>* park, bool first, bool last, float* y, int yStride, int rows)
    {
        float* w0 = panel, w1 = panel + k, w2 = panel + 2L * k, w3 = panel + 3L * k;
        float* w4 = panel + 4L * k, w5 = panel + 5L * k, w6 = panel + 6L * k, w7 = panel + 7L * k;
        float* x0 = x, x1 = x + xStride, x2 = x + 2L * xStride;
        Vector128<float> a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32;
        Vector128<float> a40, a41, a42, a50, a51, a52, a60, a61, a62, a70, a71, a72;
        if (first)
        {
            a00 = a01 = a02 = a10 = a11 = a12 = a20 = a21 = a22 = a30 = a31 = a32 = default;
            a40 = a41 = a42 = a50 = a51 = a52 = a60 = a61 = a62 = a70 = a71 = a72 = default;
        }
        else
        {
            a00 = park[0]; a01 = park[1]; a02 = park[2]; a10 = park[3]; a11 = park[4]; a12 = park[5];
            a20 = park[6]; a21 = park[7]; a22 = park[8]; a30 = park[9]; a31 = park[10]; a32 = park[11];
            a40 = park[12]; a41 = park[13]; a42 = park[14]; a50 = park[15]; a51 = park[16]; a52 = park[17];
            a60 = park[18]; a61 = park[19]; a62 = park[20]; a70 = park[21]; a71 = park[22]; a72 = park[23];
        }

        for (var i = k0; i < k1; i += 4)
        {
            var v0 = Vector128.Load(x0 + i);
            var v1 = Vector128.Load(x1 + i);
            var v2 = Vector128.Load(x2 + i);
            var r = Vector128.Load(w0 + i);
            a00 = Vector128.FusedMultiplyAdd(r, v0, a00);
            a01 = Vector128.FusedMultiplyAdd(r, v1, a01);
            a02 = Vector128.FusedMultiplyAdd(r, v2, a02);
            r = Vector128.Load(w1 + i);
            a10 = Vector128.FusedMultiplyAdd(r, v0, a10);
            a11 = Vector128.FusedMultiplyAdd(r, v1, a11);
            a12 = Vector128.FusedMultiplyAdd(r, v2, a12);
            r = Vector128.Load(w2 + i);
            a20 = Vector128.FusedMultiplyAdd(r, v0, a20);
            a21 = Vector128.FusedMultiplyAdd(r, v1, a21);
            a22 = Vector128.FusedMultiplyAdd(r, v2, a22);
            r = Vector128.Load(w3 + i);
            a30 = Vector128.FusedMultiplyAdd(r, v0, a30);
            a31 = Vector128.FusedMultiplyAdd(r, v1, a31);
            a32 = Vector128.FusedMultiplyAdd(r, v2, a32);
            r = Vector128.Load(w4 + i);
            a40 = Vector128.FusedMultiplyAdd(r, v0, a40);
            a41 = Vector128.FusedMultiplyAdd(r, v1, a41);
            a42 = Vector128.FusedMultiplyAdd(r, v2, a42);
            r = Vector128.Load(w5 + i);
            a50 = Vector128.FusedMultiplyAdd(r, v0, a50);
            a51 = Vector128.FusedMultiplyAdd(r, v1, a51);
            a52 = Vector128.FusedMultiplyAdd(r, v2, a52);
            r = Vector128.Load(w6 + i);
            a60 = Vector128.FusedMultiplyAdd(r, v0, a60);
            a61 = Vector128.FusedMultiplyAdd(r, v1, a61);
            a62 = Vector128.FusedMultiplyAdd(r, v2, a62);
            r = Vector128.Load(w7 + i);
            a70 = Vector128.FusedMultiplyAdd(r, v0, a70);
            a71 = Vector128.FusedMultiplyAdd(r, v1, a71);
            a72 = Vector128.FusedMultiplyAdd(r, v2, a72);
        }

        if (!last)
        {
            park[0] = a00; park[1] = a01; park[2] = a02; park[3] = a10; park[4] = a11; park[5] = a12;
            park[6] = a20; park[7] = a21; park[8] = a22; park[9] = a30; park[10] = a31; park[11] = a32;
            park[12] = a40; park[13] = a41; park[14] = a42; park[15] = a50; park[16] = a51; park[17] = a52;
            park[18] = a60; park[19] = a61; park[20] = a62; park[21] = a70; park[22] = a71; park[23] = a72;
            return;
        }

        Store8(y, rows, a00, a10, a20, a30, a40, a50, a60, a70);
        Store8(y + yStride, rows, a01, a11, a21, a31, a41, a51, a61, a71);
        Store8(y + 2L * yStride, rows, a02, a12, a22, a32, a42, a52, a62, a72);
    }

    /// <summary>The lane sums of eight accumulators into y[0..rows): a 4 × 4 transpose-and-add per half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(float* y, int rows, Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d,
        Vector128<float> e, Vector128<float> f, Vector128<float> g, Vector128<float> h)
    {
        var lo = Sum4(a, b, c, d);
        var hi = Sum4(e, f, g, h);
        if (rows == Rows)
        {
            lo.Store(y);
            hi.Store(y + 4);
            return;
        }

        for (var i = 0; i < rows; i++)
        {
            y[i] = i < 4 ? lo.GetElement(i) : hi.GetElement(i - 4);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d) =>
        Vector128.Create(Vector128.Sum(a), Vector128.Sum(b), Vector128.Sum(c), Vector128.Sum(d));

    private static float Dot(float* w, float* x, int k)
    {
        var acc = Vector128<float>.Zero;
        for (var i = 0; i < k; i += 4)
        {
            acc = Vector128.FusedMultiplyAdd(Vector128.Load(w + i), Vector128.Load(x + i), acc);
        }

        return Vector128.Sum(acc);
    }
}
