using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Q4_K / Q5_K / Q6_K weights × Q8_K activations in place, for the Portable path (any CPU, ARM64
/// included), ggml's <c>ggml_vec_dot_qN_K_q8_K</c>: the weights
/// are read from the GGUF bytes, each 256-weight super-block is unpacked once (<see cref="KQuantBlock"/>)
/// into L1 and multiplied with the activations of up to <see cref="TokenBlock"/> tokens with
/// <c>Vector128</c> (16-bit products widened to int32). Per token the sub-block products stay in int32
/// (scaled by the integer sub-block scales), are converted to float once per super-block and scaled by
/// d·dx; the sub-block mins (Q4_K/Q5_K) and Q6_K's offset of 32 come off through the activations' sums of
/// 16 (bsums), as in ggml. x86 and Neon read a repacked copy instead (<see cref="KQuantPackedKernels"/>, <see cref="KQuantNeonKernels"/>).
/// </summary>
internal static unsafe class KQuantKernels
{
    private const int TokenBlock = 16;
    private const int K = Q8Activations.SuperBlockSize;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunPortable(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
    {
        var q = Activations(w, input);
        var blockBytes = GgmlTypeInfo.Of(w.Type).BytesPerBlock;
        var nsb = w.Columns / K;
        var u = stackalloc byte[K];
        var scale16 = stackalloc int[16];
        var min16 = stackalloc int[16];
        var acc = stackalloc Vector128<float>[TokenBlock];
        var corr = stackalloc float[TokenBlock];
        var xq = stackalloc sbyte*[TokenBlock];
        var xd = stackalloc float*[TokenBlock];
        var xs = stackalloc int*[TokenBlock];
        for (var tb = 0; tb < input.Tokens; tb += TokenBlock)
        {
            var n = Math.Min(TokenBlock, input.Tokens - tb);
            for (var t = 0; t < n; t++)
            {
                xq[t] = q.KQuants(input.QuantRow0 + tb + t);
                xd[t] = q.KScales(input.QuantRow0 + tb + t);
                xs[t] = q.KSums(input.QuantRow0 + tb + t);
            }

            for (var r = rowStart; r < rowEnd; r++)
            {
                var row = w.Data + (r * w.RowBytes);
                for (var t = 0; t < n; t++)
                {
                    acc[t] = Vector128<float>.Zero;
                    corr[t] = 0f;
                }

                for (var sb = 0; sb < nsb; sb++)
                {
                    KQuantBlock.Unpack(w.Type, row + (sb * blockBytes), u, scale16, min16, out var d, out var m);
                    for (var t = 0; t < n; t++)
                    {
                        var x = xq[t] + (sb * K);
                        var dx = xd[t][sb];
                        var bs = xs[t] + (sb * 16);
                        var s = Vector128<int>.Zero;
                        var msum = 0;
                        for (var j = 0; j < 16; j++)
                        {
                            var ub = Vector128.Load(u + (16 * j));
                            var xb = Vector128.Load(x + (16 * j));
                            // u ≤ 63, |x| ≤ 127: each 16-bit product and the sum of two fit in a short.
                            var p = (Vector128.WidenLower(ub).AsInt16() * Vector128.WidenLower(xb)) + (Vector128.WidenUpper(ub).AsInt16() * Vector128.WidenUpper(xb));
                            s += (Vector128.WidenLower(p) + Vector128.WidenUpper(p)) * scale16[j];
                            msum += min16[j] * bs[j];
                        }

                        acc[t] += Vector128.ConvertToSingle(s) * (d * dx);
                        corr[t] += m * dx * msum;
                    }
                }

                for (var t = 0; t < n; t++)
                {
                    y[((long)(tb + t) * yStride) + r] = Vector128.Sum(acc[t]) - corr[t];
                }
            }
        }
    }

    private static Q8Activations Activations(WeightMatrix w, in MatMulInput input)
    {
        var q = input.Quantized;
        return q is { HasSuperBlocks: true }
            ? q
            : throw new InvalidOperationException($"{w.Name}: {w.Type} weights need Q8_K-quantized activations.");
    }
}
