using System.Numerics;
using System.Runtime.CompilerServices;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// The matrix products for CPUs without AVX2 (ARM included) and for weights decoded a row at a time
/// (K-quants, every path): float weights are widened a row at a time and multiplied with
/// <see cref="Vector{T}"/> for a token or two, through <see cref="FloatGemm128"/>'s register tiles for more;
/// quantized weights are read from the same packed layout as
/// the x86 kernels, with scalar integer arithmetic. Slower, but the same function bit for bit in the
/// integer part, and it checks the packed layout independently of the SIMD code.
/// </summary>
internal static unsafe class PortableKernels
{
    private const int G = PackedQuantLayout.RowsPerGroup;

    public static void Run(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* scratch)
    {
        if (w.IsQuantized)
        {
            RunQuantized(w, input, rowStart, rowEnd, y, yStride);
        }
        else
        {
            RunFloat(w, input, rowStart, rowEnd, y, yStride, scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunFloat(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride, float* scratch)
    {
        var k = w.Columns;
        if (FloatGemm128.Applies(k, input.Tokens))
        {
            FloatGemm128.Run(w, input, rowStart, rowEnd, y, yStride, scratch);
            return;
        }

        var row = new Span<float>(scratch, k);
        for (var r = rowStart; r < rowEnd; r++)
        {
            Quantizer.Dequantize(w.Type, w.Row(r), row);
            for (var t = 0; t < input.Tokens; t++)
            {
                y[(long)t * yStride + r] = Dot(row, new ReadOnlySpan<float>(input.Row(t), k));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector<float>.Zero;
        var i = 0;
        for (; i + Vector<float>.Count <= a.Length; i += Vector<float>.Count)
        {
            acc += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        var s = Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunQuantized(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
    {
        var q = input.Quantized ?? throw new InvalidOperationException($"{w.Name}: quantized weights need quantized activations.");
        var q4 = w.Type == GgmlType.Q4_0;
        var qBytes = PackedQuantLayout.QuantBytesPerGroupBlock(w.Type);
        var sums = stackalloc float[G];
        var isum = stackalloc int[G];
        for (var t = 0; t < input.Tokens; t++)
        {
            var row = input.QuantRow0 + t;
            var x = q.Quants(row);
            var xd = q.Scales(row);
            for (var g = rowStart / G; g < (rowEnd + G - 1) / G; g++)
            {
                var wq = w.PackedQuants + (long)g * w.Blocks * qBytes;
                var ws = w.PackedScales + (long)g * w.Blocks * G;
                new Span<float>(sums, G).Clear();
                for (var b = 0; b < w.Blocks; b++, wq += qBytes, ws += G)
                {
                    var xb = x + b * 32;
                    for (var r = 0; r < G; r++)
                    {
                        var s = 0;
                        if (q4)
                        {
                            for (var c = 0; c < 4; c++)
                            {
                                for (var i = 0; i < 4; i++)
                                {
                                    var v = wq[32 * c + 4 * r + i];
                                    s += ((v & 0x0F) - 8) * xb[4 * c + i] + ((v >> 4) - 8) * xb[16 + 4 * c + i];
                                }
                            }
                        }
                        else
                        {
                            for (var c = 0; c < 8; c++)
                            {
                                for (var i = 0; i < 4; i++)
                                {
                                    s += (wq[32 * c + 4 * r + i] - 128) * xb[4 * c + i];
                                }
                            }
                        }

                        isum[r] = s;
                    }

                    for (var r = 0; r < G; r++)
                    {
                        sums[r] += isum[r] * (HalfVectors.HalfToFloat(ws[r]) * xd[b]);
                    }
                }

                for (var r = 0; r < G && g * G + r < rowEnd; r++)
                {
                    y[(long)t * yStride + g * G + r] = sums[r];
                }
            }
        }
    }
}
