using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// One Q4_K / Q5_K / Q6_K super-block (256 weights) in the form the integer kernels multiply, unpacked
/// from the GGUF bytes with 128-bit vector ops: unsigned quants u (0..15, 0..31, 0..63), a scale and a
/// "min" per 16 weights and two floats, such that the super-block's dot product with Q8_K activations
/// (quants x, scale dx, sums of 16 <c>bsums</c>) is
/// <c>dx · (D · Σ_j scale_j·Σ u·x − M · Σ_j min_j·bsums_j)</c>, ggml's formula: for Q4_K/Q5_K D = d,
/// M = dmin and the 6-bit scale/min of each 32-weight sub-block; for Q6_K D = M = d, scale the int8
/// sub-block scale and min = 32·scale (its quants are stored as q + 32).
/// </summary>
internal static unsafe class KQuantBlock
{
    public static bool HasKernel(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(GgmlType type, byte* block, byte* u, int* scale16, int* min16, out float d, out float m)
    {
        switch (type)
        {
            case GgmlType.Q4_K:
                UnpackQ4(block, u, scale16, min16, out d, out m);
                break;
            case GgmlType.Q5_K:
                UnpackQ5(block, u, scale16, min16, out d, out m);
                break;
            default:
                UnpackQ6(block, u, scale16, min16, out d, out m);
                break;
        }
    }

    private static void UnpackQ4(byte* block, byte* u, int* scale16, int* min16, out float d, out float m)
    {
        ScalesAndMins(block, scale16, min16, out d, out m);
        var low = Vector128.Create((byte)0x0F);
        var q = block + 16;
        for (var c = 0; c < 4; c++)
        {
            for (var h = 0; h < 32; h += 16)
            {
                var v = Vector128.Load(q + (32 * c) + h);
                (v & low).Store(u + (64 * c) + h);
                Vector128.ShiftRightLogical(v, 4).Store(u + (64 * c) + 32 + h);
            }
        }
    }

    private static void UnpackQ5(byte* block, byte* u, int* scale16, int* min16, out float d, out float m)
    {
        ScalesAndMins(block, scale16, min16, out d, out m);
        var low = Vector128.Create((byte)0x0F);
        var one = Vector128.Create((byte)1);
        var qh = block + 16;
        var q = block + 48;
        for (var c = 0; c < 4; c++)
        {
            for (var h = 0; h < 32; h += 16)
            {
                var v = Vector128.Load(q + (32 * c) + h);
                var bits = Vector128.Load(qh + h);
                var b0 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(bits, 2 * c) & one, 4);
                var b1 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(bits, (2 * c) + 1) & one, 4);
                ((v & low) | b0).Store(u + (64 * c) + h);
                (Vector128.ShiftRightLogical(v, 4) | b1).Store(u + (64 * c) + 32 + h);
            }
        }
    }

    private static void UnpackQ6(byte* block, byte* u, int* scale16, int* min16, out float d, out float m)
    {
        d = HalfVectors.HalfToFloat(*(ushort*)(block + 208));
        m = d;
        var sc = (sbyte*)(block + 192);
        for (var j = 0; j < 16; j++)
        {
            scale16[j] = sc[j];
            min16[j] = 32 * sc[j];
        }

        var low = Vector128.Create((byte)0x0F);
        var three = Vector128.Create((byte)3);
        for (var half = 0; half < 2; half++)
        {
            var ql = block + (64 * half);
            var qh = block + 128 + (32 * half);
            var o = u + (128 * half);
            for (var h = 0; h < 32; h += 16)
            {
                var a = Vector128.Load(ql + h);
                var b = Vector128.Load(ql + 32 + h);
                var hb = Vector128.Load(qh + h);
                ((a & low) | Vector128.ShiftLeft(hb & three, 4)).Store(o + h);
                ((b & low) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 2) & three, 4)).Store(o + 32 + h);
                (Vector128.ShiftRightLogical(a, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 4) & three, 4)).Store(o + 64 + h);
                (Vector128.ShiftRightLogical(b, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 6), 4)).Store(o + 96 + h);
            }
        }
    }

    // Q4_K/Q5_K: fp16 d and dmin, then ggml's get_scale_min_k4 for the 8 sub-blocks of 32, each spread over two 16s.
    private static void ScalesAndMins(byte* block, int* scale16, int* min16, out float d, out float m)
    {
        d = HalfVectors.HalfToFloat(*(ushort*)block);
        m = HalfVectors.HalfToFloat(*(ushort*)(block + 2));
        var s = block + 4;
        for (var j = 0; j < 8; j++)
        {
            int sc, mn;
            if (j < 4)
            {
                sc = s[j] & 63;
                mn = s[j + 4] & 63;
            }
            else
            {
                sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
                mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
            }

            scale16[2 * j] = scale16[(2 * j) + 1] = sc;
            min16[2 * j] = min16[(2 * j) + 1] = mn;
        }
    }
}
