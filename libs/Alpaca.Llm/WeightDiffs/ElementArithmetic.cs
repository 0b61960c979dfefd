using System.Runtime.InteropServices;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.WeightDiffs;

/// <summary>
/// Element-wise <c>a − b</c> and <c>a + b</c> on raw tensor bytes, as torch computes them on CPU tensors of that
/// dtype: each F16/BF16 element widened to float32, one float32 operation, rounded back to the dtype (nearest
/// even). For add and subtract float32 has more than 2p+2 bits for both half types, so this single rounding equals
/// the correctly rounded exact result; that is why numpy's float16 arithmetic serves as the test oracle.
/// </summary>
internal static class ElementArithmetic
{
    public static bool Supports(SafetensorsDType t) => t is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;

    public static void Subtract(SafetensorsDType t, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> result) =>
        Apply(t, a, b, result, subtract: true);

    public static void Add(SafetensorsDType t, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> result) =>
        Apply(t, a, b, result, subtract: false);

    /// <summary>The element's bits (F32 as 32 bits, the half types as 16), for exact comparisons and the exception list.</summary>
    public static uint Bits(SafetensorsDType t, ReadOnlySpan<byte> data, int i) => t == SafetensorsDType.F32
        ? MemoryMarshal.Cast<byte, uint>(data)[i]
        : MemoryMarshal.Cast<byte, ushort>(data)[i];

    public static void SetBits(SafetensorsDType t, Span<byte> data, int i, uint bits)
    {
        if (t == SafetensorsDType.F32)
        {
            MemoryMarshal.Cast<byte, uint>(data)[i] = bits;
        }
        else
        {
            MemoryMarshal.Cast<byte, ushort>(data)[i] = (ushort)bits;
        }
    }

    /// <summary>The sum of the elements in float64, weight_diff.py's naive integrity figure.</summary>
    public static double Sum(SafetensorsDType t, ReadOnlySpan<byte> data)
    {
        double sum = 0;
        switch (t)
        {
            case SafetensorsDType.F32:
                foreach (var x in MemoryMarshal.Cast<byte, float>(data))
                {
                    sum += x;
                }

                break;
            case SafetensorsDType.F16:
                foreach (var x in MemoryMarshal.Cast<byte, ushort>(data))
                {
                    sum += HalfConverter.HalfToFloat(x);
                }

                break;
            default:
                foreach (var x in MemoryMarshal.Cast<byte, ushort>(data))
                {
                    sum += HalfConverter.Bf16ToFloat(x);
                }

                break;
        }

        return sum;
    }

    private static void Apply(SafetensorsDType t, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> result, bool subtract)
    {
        switch (t)
        {
            case SafetensorsDType.F32:
                {
                    var x = MemoryMarshal.Cast<byte, float>(a);
                    var y = MemoryMarshal.Cast<byte, float>(b);
                    var r = MemoryMarshal.Cast<byte, float>(result);
                    for (var i = 0; i < r.Length; i++)
                    {
                        r[i] = subtract ? x[i] - y[i] : x[i] + y[i];
                    }

                    break;
                }

            case SafetensorsDType.F16:
                {
                    var x = MemoryMarshal.Cast<byte, ushort>(a);
                    var y = MemoryMarshal.Cast<byte, ushort>(b);
                    var r = MemoryMarshal.Cast<byte, ushort>(result);
                    for (var i = 0; i < r.Length; i++)
                    {
                        float p = HalfConverter.HalfToFloat(x[i]), q = HalfConverter.HalfToFloat(y[i]);
                        r[i] = HalfConverter.FloatToHalf(subtract ? p - q : p + q);
                    }

                    break;
                }

            case SafetensorsDType.BF16:
                {
                    var x = MemoryMarshal.Cast<byte, ushort>(a);
                    var y = MemoryMarshal.Cast<byte, ushort>(b);
                    var r = MemoryMarshal.Cast<byte, ushort>(result);
                    for (var i = 0; i < r.Length; i++)
                    {
                        float p = HalfConverter.Bf16ToFloat(x[i]), q = HalfConverter.Bf16ToFloat(y[i]);
                        r[i] = HalfConverter.FloatToBf16(subtract ? p - q : p + q);
                    }

                    break;
                }

            default:
                throw new NotSupportedException($"{t} tensors have no weight-diff arithmetic (F32, F16 and BF16 do).");
        }
    }
}
