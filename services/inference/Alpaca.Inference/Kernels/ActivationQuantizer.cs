using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// float → Q8 activation blocks, as ggml's AVX <c>quantize_row_q8_0</c>: d = fp16(amax/127) and
/// q = round-half-even(x · (127/amax)) in single precision (<c>vcvtps2dq</c> under the default rounding
/// mode, and <see cref="MathF.Round(float)"/>; ggml's scalar reference rounds half away from zero).
/// Every path gives bit-identical output.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    private const int B = Q8Activations.BlockSize;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(KernelPath path, float* x, sbyte* q, float* d, int* negSum8, int* negSum128, int firstBlock, int endBlock)
    {
        switch (path)
        {
            case KernelPath.Avx512Vnni:
                QuantizeAvx512(x, q, d, negSum8, negSum128, firstBlock, endBlock);
                break;
            case KernelPath.Avx2:
                QuantizeAvx2(x, q, d, negSum8, negSum128, firstBlock, endBlock);
                break;
            default:
                for (var b = firstBlock; b < endBlock; b++)
                {
                    QuantizeBlockReference(new ReadOnlySpan<float>(x + b * B, B), new Span<sbyte>(q + b * B, B), out d[b], out var sum);
                    negSum8[b] = -8 * sum;
                    negSum128[b] = -128 * sum;
                }

                break;
        }
    }

    /// <summary>The scalar definition: one 32-value block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeBlockReference(ReadOnlySpan<float> x, Span<sbyte> q, out float d, out int sum)
    {
        var amax = 0f;
        for (var i = 0; i < B; i++)
        {
            amax = MathF.Max(amax, MathF.Abs(x[i]));
        }

        d = Fp16.Round(amax / 127f);
        var id = amax != 0f ? 127f / amax : 0f;
        sum = 0;
        for (var i = 0; i < B; i++)
        {
            var v = (sbyte)MathF.Round(x[i] * id);
            q[i] = v;
            sum += v;
        }
    }

    /// <summary>
    /// One Q8_K super-block of 256 values, ggml's <c>quantize_row_q8_K_ref</c> (x86 ggml runs the reference
    /// too): the value of largest magnitude (the first one on ties) maps to −127, iscale = −127/max,
    /// q = min(127, nearest_int(iscale·x)) (round half to even), d = 1/iscale, sums of each 16 quants.
    /// Scalar on every path, so every path gets the same bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeSuperBlock(float* x, sbyte* q, out float d, int* sums16)
    {
        const int K = Q8Activations.SuperBlockSize;
        float amax = 0f, max = 0f;
        for (var i = 0; i < K; i++)
        {
            var ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }

        if (amax == 0f)
        {
            d = 0f;
            new Span<sbyte>(q, K).Clear();
            new Span<int>(sums16, 16).Clear();
            return;
        }

        var iscale = -127f / max;
        for (var j = 0; j < 16; j++)
        {
            var sum = 0;
            for (var i = 16 * j; i < 16 * (j + 1); i++)
            {
                var v = (sbyte)Math.Min(127, (int)MathF.Round(iscale * x[i]));
                q[i] = v;
                sum += v;
            }

            sums16[j] = sum;
        }

        d = 1f / iscale;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizeAvx512(float* x, sbyte* q, float* d, int* negSum8, int* negSum128, int firstBlock, int endBlock)
    {
        var signMask = Vector512.Create(0x7FFFFFFF).AsSingle();
        for (var b = firstBlock; b < endBlock; b++)
        {
            var v0 = Vector512.Load(x + b * B);
            var v1 = Vector512.Load(x + b * B + 16);
            var amax = MaxAcross(Vector512.Max(v0 & signMask, v1 & signMask));
            d[b] = Fp16.Round(amax / 127f);
            var id = Vector512.Create(amax != 0f ? 127f / amax : 0f);
            var q0 = Avx512F.ConvertToVector512Int32(v0 * id);
            var q1 = Avx512F.ConvertToVector512Int32(v1 * id);
            Avx512F.ConvertToVector128SByte(q0).Store(q + b * B);
            Avx512F.ConvertToVector128SByte(q1).Store(q + b * B + 16);
            var sum = Vector512.Sum(q0 + q1);
            negSum8[b] = -8 * sum;
            negSum128[b] = -128 * sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizeAvx2(float* x, sbyte* q, float* d, int* negSum8, int* negSum128, int firstBlock, int endBlock)
    {
        var signMask = Vector256.Create(0x7FFFFFFF).AsSingle();
        var fixOrder = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        for (var b = firstBlock; b < endBlock; b++)
        {
            var p = x + b * B;
            var v0 = Vector256.Load(p);
            var v1 = Vector256.Load(p + 8);
            var v2 = Vector256.Load(p + 16);
            var v3 = Vector256.Load(p + 24);
            var m = Vector256.Max(Vector256.Max(v0 & signMask, v1 & signMask), Vector256.Max(v2 & signMask, v3 & signMask));
            var m128 = Vector128.Max(m.GetLower(), m.GetUpper());
            m128 = Vector128.Max(m128, Sse.Shuffle(m128, m128, 0b01_00_11_10));
            m128 = Vector128.Max(m128, Sse.Shuffle(m128, m128, 0b10_11_00_01));
            var amax = m128.ToScalar();
            d[b] = Fp16.Round(amax / 127f);
            var id = Vector256.Create(amax != 0f ? 127f / amax : 0f);
            var i0 = Avx.ConvertToVector256Int32(v0 * id);
            var i1 = Avx.ConvertToVector256Int32(v1 * id);
            var i2 = Avx.ConvertToVector256Int32(v2 * id);
            var i3 = Avx.ConvertToVector256Int32(v3 * id);
            var s = Vector256.Sum((i0 + i1) + (i2 + i3));
            var packed = Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(i0, i1), Avx2.PackSignedSaturate(i2, i3));
            Avx2.PermuteVar8x32(packed.AsInt32(), fixOrder).AsSByte().Store(q + b * B);
            negSum8[b] = -8 * s;
            negSum128[b] = -128 * s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector512<float> v)
    {
        var m = Vector256.Max(v.GetLower(), v.GetUpper());
        var m128 = Vector128.Max(m.GetLower(), m.GetUpper());
        m128 = Vector128.Max(m128, Sse.Shuffle(m128, m128, 0b01_00_11_10));
        m128 = Vector128.Max(m128, Sse.Shuffle(m128, m128, 0b10_11_00_01));
        return m128.ToScalar();
    }
}
