using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// fp16 / bf16 → fp32 widening in SIMD registers. .NET exposes no F16C instruction, so fp16 is widened with
/// integer ops: the 15 exponent+mantissa bits are moved to the float's position (value·2⁻¹¹²), one
/// multiply by 2¹¹² rebiases the exponent exactly (half subnormals become float normals), and the sign
/// is put back. Exact for every finite half; Inf/NaN come out as large finite numbers, which is why
/// the weight loader rejects F16 tensors holding them (<see cref="Loading.TensorChecks"/>).
/// </summary>
internal static class HalfVectors
{
    private const float Rebias = 5.192296858534828e33f; // 2^112

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfToFloat(Vector128<ushort> h)
    {
        var w = Avx2.ConvertToVector256Int32(h).AsUInt32();
        var magnitude = Avx2.ShiftLeftLogical(w, 13) & Vector256.Create(0x0FFFE000u);
        var scaled = magnitude.AsSingle() * Vector256.Create(Rebias);
        var sign = Avx2.ShiftLeftLogical(w, 16);
        return Vector256.ConditionalSelect(Vector256.Create(0x80000000u), sign, scaled.AsUInt32()).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToFloat(Vector256<ushort> h)
    {
        var w = Avx512F.ConvertToVector512UInt32(h);
        var magnitude = Avx512F.ShiftLeftLogical(w, 13) & Vector512.Create(0x0FFFE000u);
        var scaled = magnitude.AsSingle() * Vector512.Create(Rebias);
        var sign = Avx512F.ShiftLeftLogical(w, 16);
        return Vector512.ConditionalSelect(Vector512.Create(0x80000000u), sign, scaled.AsUInt32()).AsSingle();
    }

    /// <summary>
    /// Half → float·2⁻¹¹²: sign-extending puts copies of the sign in bits 16–31, so after a shift by 13
    /// bit 31 holds the sign and bits 13–27 the exponent and mantissa; the mask clears the copies in 28–30.
    /// Exact for every finite half (subnormal halves become float subnormals, which FMA handles exactly).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToScaledFloat(Vector256<short> h) =>
        (Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(h), 13) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfToScaledFloat(Vector128<short> h) =>
        (Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(h), 13) & Vector256.Create(unchecked((int)0x8FFFE000))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToScaledFloat(short h) => BitConverter.Int32BitsToSingle((h << 13) & unchecked((int)0x8FFFE000));

    /// <summary>
    /// Writes input row t · 2¹¹² to <paramref name="scaled"/> + t·k for every token, so that dot products
    /// with <see cref="HalfToScaledFloat(Vector256{short})"/> weights are exact. False (nothing usable
    /// written) when some |x| ≥ 2¹⁵, where the scaled value could overflow float.
    /// </summary>
    public static unsafe bool ScaleForHalfDot(in Kernels.MatMulInput input, int k, float* scaled)
    {
        const float limit = 32768f;
        for (var t = 0; t < input.Tokens; t++)
        {
            var x = input.Row(t);
            var dst = scaled + (long)t * k;
            for (var i = 0; i < k; i++)
            {
                var v = x[i];
                if (!(Math.Abs(v) < limit))
                {
                    return false;
                }

                dst[i] = v * Rebias;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Bf16ToFloat(Vector128<ushort> h) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(h).AsUInt32(), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Bf16ToFloat(Vector256<ushort> h) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(h), 16).AsSingle();

    /// <summary>Portable widening of 4 halves (any CPU): the same bit trick with cross-platform vector ops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> HalfToFloatPortable(Vector128<uint> w)
    {
        var magnitude = (w << 13) & Vector128.Create(0x0FFFE000u);
        var scaled = magnitude.AsSingle() * Vector128.Create(Rebias);
        return Vector128.ConditionalSelect(Vector128.Create(0x80000000u), w << 16, scaled.AsUInt32()).AsSingle();
    }

    /// <summary>Scalar version of the same trick (exact for finite halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToFloat(ushort h)
    {
        var w = (uint)h;
        var scaled = BitConverter.UInt32BitsToSingle((w << 13) & 0x0FFFE000u) * Rebias;
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(scaled) | ((w << 16) & 0x80000000u));
    }
}
