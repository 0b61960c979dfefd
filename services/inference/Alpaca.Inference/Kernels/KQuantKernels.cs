using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Q4_K / Q5_K / Q6_K weights × Q8_K activations, ggml's <c>ggml_vec_dot_qN_K_q8_K</c>: the weights are
/// read in place from the GGUF bytes, each 256-weight super-block is unpacked once
/// (<see cref="KQuantBlock"/>) into L1 and multiplied with the activations of up to
/// <see cref="TokenBlock"/> tokens (one for decode, many for prompt processing). Per token the
/// sub-block products stay in int32 (scaled by the integer sub-block scales), are converted to float
/// once per super-block and scaled by d·dx; the sub-block mins (Q4_K/Q5_K) and Q6_K's offset of 32 come
/// off through the activations' sums of 16 (bsums), as in ggml.
/// <para>x86 (<see cref="Run{TDot}"/>): 32 byte pairs per instruction through <see cref="IIntDot"/>
/// (<c>vpmaddubsw</c> for the byte pairs, then <c>vpmaddwd</c> on AVX2 or <c>vpdpwssd</c> with AVX-VNNI
/// multiplies by the int16 sub-block scales and sums into int32, as ggml does); u ≤ 63 and |x| ≤ 127, so
/// the 16-bit pair sums cannot saturate. A 32-weight chunk's 8 int32 lanes hold 4 weights each, so lanes
/// 0–3 and 4–7 take the scales of its two 16-weight halves. Portable (<see cref="RunPortable"/>, any
/// CPU, ARM64 included): the same with <c>Vector128</c>, 16-bit products widened to int32.</para>
/// </summary>
internal static unsafe class KQuantKernels
{
    private const int TokenBlock = 16;
    private const int K = Q8Activations.SuperBlockSize;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TDot>(WeightMatrix w, in MatMulInput input, int rowStart, int rowEnd, float* y, int yStride)
        where TDot : struct, IIntDot
    {
        var q = Activations(w, input);
        var blockBytes = GgmlTypeInfo.Of(w.Type).BytesPerBlock;
        var nsb = w.Columns / K;
        var u = stackalloc byte[K];
        var scale16 = stackalloc int[16];
        var min16 = stackalloc int[16];
        var scales = stackalloc Vector256<short>[8];
        var acc = stackalloc Vector256<float>[TokenBlock];
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
                    acc[t] = Vector256<float>.Zero;
                    corr[t] = 0f;
                }

                for (var sb = 0; sb < nsb; sb++)
                {
                    Sse.Prefetch0(row + ((sb + 2) * blockBytes));
                    KQuantBlock.Unpack(w.Type, row + (sb * blockBytes), u, scale16, min16, out var d, out var m);
                    for (var c = 0; c < 8; c++)
                    {
                        scales[c] = Vector256.Create(Vector128.Create((short)scale16[2 * c]), Vector128.Create((short)scale16[(2 * c) + 1]));
                    }

                    var mins0 = Vector256.Load(min16);
                    var mins1 = Vector256.Load(min16 + 8);
                    for (var t = 0; t < n; t++)
                    {
                        var x = xq[t] + (sb * K);
                        var dx = xd[t][sb];
                        var bs = xs[t] + (sb * 16);
                        var s0 = Vector256<int>.Zero;
                        var s1 = Vector256<int>.Zero;
                        for (var c = 0; c < 8; c += 2)
                        {
                            s0 = TDot.DotScaled(s0, Vector256.Load(u + (32 * c)), Vector256.Load(x + (32 * c)), scales[c]);
                            s1 = TDot.DotScaled(s1, Vector256.Load(u + (32 * c) + 32), Vector256.Load(x + (32 * c) + 32), scales[c + 1]);
                        }

                        acc[t] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0 + s1), Vector256.Create(d * dx), acc[t]);
                        var msum = Vector256.Sum((mins0 * Vector256.Load(bs)) + (mins1 * Vector256.Load(bs + 8)));
                        corr[t] += m * dx * msum;
                    }
                }

                for (var t = 0; t < n; t++)
                {
                    y[((long)(tb + t) * yStride) + r] = Vector256.Sum(acc[t]) - corr[t];
                }
            }
        }
    }

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
