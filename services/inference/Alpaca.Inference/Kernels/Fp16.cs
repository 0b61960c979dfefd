using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Rounding to IEEE fp16, where llama.cpp rounds: the KV cache is fp16, and ggml converts the float
/// operand of a matrix product to the weight's "vec_dot type" first (fp16 for F16 weights and for the
/// attention products with the fp16 cache). Doing the same keeps our logits within float-rounding
/// distance of llama.cpp's. Round to nearest, ties to even, as F16C's <c>vcvtps2ph</c>.
/// </summary>
public static unsafe class Fp16
{
    private const float MinNormal = 6.103515625e-05f; // 2^-14

    /// <summary>float → fp16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ToBits(float x) => BitConverter.HalfToUInt16Bits((Half)x);

    /// <summary>The float nearest to x that fp16 can hold (±∞ beyond 65504).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Round(float x) => (float)(Half)x;

    /// <summary>Rounds n floats in place to fp16 precision (vectorised; same results as <see cref="Round"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RoundInPlace(float* x, int n)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var absMask = Vector256.Create(0x7FFFFFFFu);
            var half = Vector256.Create(0.5f);
            var minNormal = Vector256.Create(MinNormal);
            var max = Vector256.Create(65520f); // values ≥ 65520 round to infinity
            var inf = Vector256.Create(float.PositiveInfinity);
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Load(x + i);
                var bits = v.AsUInt32();
                var sign = bits & ~absMask;
                var abs = (bits & absMask).AsSingle();
                // Normal range: round the float mantissa to 10 bits (ties to even) in the integer domain.
                var b = abs.AsUInt32();
                var normal = ((b + Vector256.Create(0x0FFFu) + ((b >> 13) & Vector256<uint>.One)) & Vector256.Create(0xFFFFE000u)).AsSingle();
                // Subnormal range: adding 0.5 puts the value where float's spacing is 2^-24, fp16's subnormal step.
                var subnormal = (abs + half) - half;
                var r = Vector256.ConditionalSelect(Vector256.LessThan(abs, minNormal), subnormal, normal);
                r = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, max), inf, r);
                // NaN stays NaN (its payload bits may change, which nothing depends on).
                r = Vector256.ConditionalSelect(Vector256.Equals(abs, abs), r, abs);
                (r.AsUInt32() | sign).AsSingle().Store(x + i);
            }
        }

        for (; i < n; i++)
        {
            x[i] = Round(x[i]);
        }
    }
}
