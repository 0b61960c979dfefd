using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>How to widen one weight element type to float, 16 (AVX-512), 8 (AVX2) or 1 at a time.</summary>
internal unsafe interface IWeightElement
{
    static abstract int Size { get; }

    static abstract Vector512<float> Load16(byte* p);

    static abstract Vector256<float> Load8(byte* p);

    static abstract float Load1(byte* p);
}

internal readonly unsafe struct F32Element : IWeightElement
{
    public static int Size => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* p) => Vector512.Load((float*)p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* p) => Vector256.Load((float*)p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* p) => *(float*)p;
}

internal readonly unsafe struct F16Element : IWeightElement
{
    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* p) => HalfVectors.HalfToFloat(Vector256.Load((ushort*)p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* p) => HalfVectors.HalfToFloat(Vector128.Load((ushort*)p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* p) => HalfVectors.HalfToFloat(*(ushort*)p);
}

/// <summary>
/// fp16 widened to float·2⁻¹¹² in three integer ops (sign-extend, shift, mask: the sign lands in bit 31 and
/// the 15 exponent+mantissa bits under the float's), for dot products whose activations were multiplied
/// by 2¹¹² beforehand (<see cref="HalfVectors.ScaleForHalfDot"/>): every product is then exactly w·x,
/// with no per-element rebias multiply. Only for decode, where the scaled activations are one row.
/// </summary>
internal readonly unsafe struct F16ScaledElement : IWeightElement
{
    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* p) => HalfVectors.HalfToScaledFloat(Vector256.Load((short*)p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* p) => HalfVectors.HalfToScaledFloat(Vector128.Load((short*)p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* p) => HalfVectors.HalfToScaledFloat(*(short*)p);
}

internal readonly unsafe struct Bf16Element : IWeightElement
{
    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* p) => HalfVectors.Bf16ToFloat(Vector256.Load((ushort*)p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* p) => HalfVectors.Bf16ToFloat(Vector128.Load((ushort*)p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* p) => BitConverter.UInt32BitsToSingle((uint)*(ushort*)p << 16);
}

/// <summary>
/// F32 / F16 / BF16 weights (in place, row-major) × float activations. Token generation: one weight row
/// at a time against each token (four accumulators), reading the matrix as one sequential stream. Prompt
/// processing: <see cref="FloatGemm"/> (AVX-512) or <see cref="FloatGemm256"/> (AVX2 + FMA), register
/// tiles over a widened per-thread panel; a 4 × 4 AVX-512 tile for shapes those don't take.
/// </summary>
internal static unsafe class FloatKernels
{
    public const int PanelRows = 4;
    private const int TokenBlock = 64;

    /// <summary>Floats of per-thread scratch <see cref="Run"/> needs for a matrix with this many columns.</summary>
    public static int ScratchFloats(int columns) =>
        Math.Max(Math.Max(PanelRows * columns, FloatGemm128.ScratchFloats(columns)), Math.Max(FloatGemm.ScratchFloats(columns), FloatGemm256.ScratchFloats(columns)));

    public static void Run(bool avx512, WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* scratch)
    {
        switch (w.Type)
        {
            case GgmlType.F32:
                Run<F32Element>(avx512, w, input, rowStart, rowEnd, y, yStride, scratch);
                break;
            case GgmlType.F16:
                Run<F16Element>(avx512, w, input, rowStart, rowEnd, y, yStride, scratch);
                break;
            case GgmlType.BF16:
                Run<Bf16Element>(avx512, w, input, rowStart, rowEnd, y, yStride, scratch);
                break;
            default:
                throw new NotSupportedException($"{w.Name}: {w.Type} is not a float type.");
        }
    }

    private static void Run<TE>(bool avx512, WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* scratch)
        where TE : struct, IWeightElement
    {
        var k = w.Columns;
        if (avx512 && scratch != null && FloatGemm.Applies(k, input.Tokens))
        {
            FloatGemm.Run<TE>(w, input, rowStart, rowEnd, y, yStride, scratch);
            return;
        }

        if (!avx512 && scratch != null && FloatGemm256.Applies(k, input.Tokens))
        {
            FloatGemm256.Run<TE>(w, input, rowStart, rowEnd, y, yStride, scratch);
            return;
        }

        if (avx512 && input.Tokens >= 4 && scratch != null)
        {
            Gemm<TE>(w, input, rowStart, rowEnd, y, yStride, scratch);
            return;
        }

        // fp16 decode: widening is most of the work per byte, so the activations are pre-multiplied by
        // 2¹¹² (once per call, into scratch) and each weight needs only three integer ops (F16ScaledElement).
        // Measured on a 256 MB fp16 matrix, one thread: 28 → 34 GB/s with the prefetch below.
        if (typeof(TE) == typeof(F16Element) && scratch != null && input.Tokens <= PanelRows
            && HalfVectors.ScaleForHalfDot(input, k, scratch))
        {
            var scaled = new MatMulInput(scratch, k, input.Tokens);
            if (!avx512)
            {
                HalfDecode256.Rows(w, scaled, rowStart, rowEnd, y, yStride);
                return;
            }

            for (var r = rowStart; r < rowEnd; r++)
            {
                var row = w.Data + r * w.RowBytes;
                for (var t = 0; t < input.Tokens; t++)
                {
                    y[(long)t * yStride + r] = avx512
                        ? Dot1x1_512<F16ScaledElement>(row, scaled.Row(t), k)
                        : Dot1x1_256<F16ScaledElement>(row, scaled.Row(t), k);
                }
            }

            return;
        }

        // One row at a time, for every token while the row is in L1: the weights are read as one
        // sequential stream, which the hardware prefetcher follows at full DRAM speed (four rows at a time
        // made four interleaved streams of short rows and ran at a third of it).
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = w.Data + r * w.RowBytes;
            for (var t = 0; t < input.Tokens; t++)
            {
                y[(long)t * yStride + r] = avx512 ? Dot1x1_512<TE>(row, input.Row(t), k) : Dot1x1_256<TE>(row, input.Row(t), k);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gemm<TE>(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* panel)
        where TE : struct, IWeightElement
    {
        var k = w.Columns;
        var tokens = input.Tokens;
        var full = tokens / 4 * 4;
        for (var tb = 0; tb < tokens; tb += TokenBlock)
        {
            var tEnd = Math.Min(tokens, tb + TokenBlock);
            var quadEnd = Math.Min(full, tEnd);
            var r = rowStart;
            for (; r + PanelRows <= rowEnd; r += PanelRows)
            {
                byte* rows;
                long rowBytes;
                if (TE.Size == 4)
                {
                    rows = w.Data + r * w.RowBytes;
                    rowBytes = w.RowBytes;
                }
                else
                {
                    for (var i = 0; i < PanelRows; i++)
                    {
                        Widen<TE>(w.Data + (r + i) * w.RowBytes, panel + (long)i * k, k);
                    }

                    rows = (byte*)panel;
                    rowBytes = (long)k * sizeof(float);
                }

                var t = tb;
                for (; t < quadEnd; t += 4)
                {
                    Tile4x4(rows, rowBytes, input.Row(t), input.Stride, k, y + (long)t * yStride + r, yStride);
                }

                for (; t < tEnd; t++)
                {
                    for (var i = 0; i < PanelRows; i++)
                    {
                        y[(long)t * yStride + r + i] = Dot1x1_512<F32Element>(rows + i * rowBytes, input.Row(t), k);
                    }
                }
            }

            for (; r < rowEnd; r++)
            {
                for (var t = tb; t < tEnd; t++)
                {
                    y[(long)t * yStride + r] = Dot1x1_512<TE>(w.Data + r * w.RowBytes, input.Row(t), k);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Widen<TE>(byte* src, float* dst, int k)
        where TE : struct, IWeightElement
    {
        var i = 0;
        for (; i + 16 <= k; i += 16)
        {
            TE.Load16(src + i * TE.Size).Store(dst + i);
        }

        for (; i < k; i++)
        {
            dst[i] = TE.Load1(src + i * TE.Size);
        }
    }

    /// <summary>16 dot products: 4 float rows (stride rowBytes) × 4 activation rows (stride xStride).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4(byte* rows, long rowBytes, float* x, int xStride, int k, float* y, int yStride)
    {
        float* w0 = (float*)rows, w1 = (float*)(rows + rowBytes), w2 = (float*)(rows + 2 * rowBytes), w3 = (float*)(rows + 3 * rowBytes);
        float* x0 = x, x1 = x + xStride, x2 = x + 2L * xStride, x3 = x + 3L * xStride;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        var i = 0;
        for (; i + 16 <= k; i += 16)
        {
            var v0 = Vector512.Load(x0 + i);
            var v1 = Vector512.Load(x1 + i);
            var v2 = Vector512.Load(x2 + i);
            var v3 = Vector512.Load(x3 + i);
            var r = Vector512.Load(w0 + i);
            a00 = Vector512.FusedMultiplyAdd(r, v0, a00);
            a01 = Vector512.FusedMultiplyAdd(r, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(r, v2, a02);
            a03 = Vector512.FusedMultiplyAdd(r, v3, a03);
            r = Vector512.Load(w1 + i);
            a10 = Vector512.FusedMultiplyAdd(r, v0, a10);
            a11 = Vector512.FusedMultiplyAdd(r, v1, a11);
            a12 = Vector512.FusedMultiplyAdd(r, v2, a12);
            a13 = Vector512.FusedMultiplyAdd(r, v3, a13);
            r = Vector512.Load(w2 + i);
            a20 = Vector512.FusedMultiplyAdd(r, v0, a20);
            a21 = Vector512.FusedMultiplyAdd(r, v1, a21);
            a22 = Vector512.FusedMultiplyAdd(r, v2, a22);
            a23 = Vector512.FusedMultiplyAdd(r, v3, a23);
            r = Vector512.Load(w3 + i);
            a30 = Vector512.FusedMultiplyAdd(r, v0, a30);
            a31 = Vector512.FusedMultiplyAdd(r, v1, a31);
            a32 = Vector512.FusedMultiplyAdd(r, v2, a32);
            a33 = Vector512.FusedMultiplyAdd(r, v3, a33);
        }

        float* y0 = y, y1 = y + yStride, y2 = y + 2L * yStride, y3 = y + 3L * yStride;
        y0[0] = Vector512.Sum(a00) + Tail(w0, x0, i, k);
        y1[0] = Vector512.Sum(a01) + Tail(w0, x1, i, k);
        y2[0] = Vector512.Sum(a02) + Tail(w0, x2, i, k);
        y3[0] = Vector512.Sum(a03) + Tail(w0, x3, i, k);
        y0[1] = Vector512.Sum(a10) + Tail(w1, x0, i, k);
        y1[1] = Vector512.Sum(a11) + Tail(w1, x1, i, k);
        y2[1] = Vector512.Sum(a12) + Tail(w1, x2, i, k);
        y3[1] = Vector512.Sum(a13) + Tail(w1, x3, i, k);
        y0[2] = Vector512.Sum(a20) + Tail(w2, x0, i, k);
        y1[2] = Vector512.Sum(a21) + Tail(w2, x1, i, k);
        y2[2] = Vector512.Sum(a22) + Tail(w2, x2, i, k);
        y3[2] = Vector512.Sum(a23) + Tail(w2, x3, i, k);
        y0[3] = Vector512.Sum(a30) + Tail(w3, x0, i, k);
        y1[3] = Vector512.Sum(a31) + Tail(w3, x1, i, k);
        y2[3] = Vector512.Sum(a32) + Tail(w3, x2, i, k);
        y3[3] = Vector512.Sum(a33) + Tail(w3, x3, i, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(float* w, float* x, int i, int k)
    {
        var s = 0f;
        for (; i < k; i++)
        {
            s += w[i] * x[i];
        }

        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1x1_512<TE>(byte* row, float* x, int k)
        where TE : struct, IWeightElement
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var i = 0;
        for (; i + 64 <= k; i += 64)
        {
            var o = i * TE.Size;

            // A few KB ahead of the loads: keeps DRAM busy while this block is being widened.
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + o + 4096);
            a0 = Vector512.FusedMultiplyAdd(TE.Load16(row + o), Vector512.Load(x + i), a0);
            a1 = Vector512.FusedMultiplyAdd(TE.Load16(row + o + 16 * TE.Size), Vector512.Load(x + i + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(TE.Load16(row + o + 32 * TE.Size), Vector512.Load(x + i + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(TE.Load16(row + o + 48 * TE.Size), Vector512.Load(x + i + 48), a3);
        }

        for (; i + 16 <= k; i += 16)
        {
            a0 = Vector512.FusedMultiplyAdd(TE.Load16(row + i * TE.Size), Vector512.Load(x + i), a0);
        }

        return Vector512.Sum((a0 + a1) + (a2 + a3)) + TailT<TE>(row, x, i, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1x1_256<TE>(byte* row, float* x, int k)
        where TE : struct, IWeightElement
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var i = 0;
        for (; i + 32 <= k; i += 32)
        {
            var o = i * TE.Size;
            a0 = Vector256.FusedMultiplyAdd(TE.Load8(row + o), Vector256.Load(x + i), a0);
            a1 = Vector256.FusedMultiplyAdd(TE.Load8(row + o + 8 * TE.Size), Vector256.Load(x + i + 8), a1);
            a2 = Vector256.FusedMultiplyAdd(TE.Load8(row + o + 16 * TE.Size), Vector256.Load(x + i + 16), a2);
            a3 = Vector256.FusedMultiplyAdd(TE.Load8(row + o + 24 * TE.Size), Vector256.Load(x + i + 24), a3);
        }

        for (; i + 8 <= k; i += 8)
        {
            a0 = Vector256.FusedMultiplyAdd(TE.Load8(row + i * TE.Size), Vector256.Load(x + i), a0);
        }

        return Vector256.Sum((a0 + a1) + (a2 + a3)) + TailT<TE>(row, x, i, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float TailT<TE>(byte* w, float* x, int i, int k)
        where TE : struct, IWeightElement
    {
        var s = 0f;
        for (; i < k; i++)
        {
            s += TE.Load1(w + i * TE.Size) * x[i];
        }

        return s;
    }
}
