using System.Runtime.Intrinsics;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Loading;

/// <summary>
/// Load-time checks of weight bytes the fast kernels rely on. The fp16 widening in the kernels is exact
/// for finite values only, so an F16 weight (or Q4_0/Q8_0 block scale) holding Inf/NaN is reported
/// here, naming the tensor and row, instead of silently turning into a large finite number.
/// </summary>
public static unsafe class TensorChecks
{
    /// <summary>Throws <see cref="InvalidDataException"/> when an fp16 value of the tensor is Inf or NaN.</summary>
    public static void RequireFiniteHalves(string source, string tensor, GgmlType type, byte* data, int rows, long rowBytes)
    {
        if (type is not (GgmlType.F16 or GgmlType.Q4_0 or GgmlType.Q8_0))
        {
            return;
        }

        var bad = -1;
        Parallel.For(0, rows, (r, state) =>
        {
            var row = data + r * rowBytes;
            var found = type == GgmlType.F16 ? HasNonFiniteHalf((ushort*)row, rowBytes / 2) : HasNonFiniteScale(row, rowBytes, GgmlTypeInfo.Of(type).BytesPerBlock);
            if (found)
            {
                Interlocked.CompareExchange(ref bad, r, -1);
                state.Stop();
            }
        });
        if (bad >= 0)
        {
            var what = type == GgmlType.F16 ? "an fp16 weight" : "a block scale";
            throw new InvalidDataException($"{source}: tensor '{tensor}' row {bad} holds {what} that is Inf or NaN; the model file is corrupt.");
        }
    }

    private static bool HasNonFiniteHalf(ushort* p, long n)
    {
        var exp = Vector256.Create((ushort)0x7C00);
        long i = 0;
        for (; i + 16 <= n; i += 16)
        {
            if (Vector256.EqualsAny(Vector256.Load(p + i) & exp, exp))
            {
                return true;
            }
        }

        for (; i < n; i++)
        {
            if ((p[i] & 0x7C00) == 0x7C00)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasNonFiniteScale(byte* row, long rowBytes, int blockBytes)
    {
        for (long o = 0; o < rowBytes; o += blockBytes)
        {
            if ((*(ushort*)(row + o) & 0x7C00) == 0x7C00)
            {
                return true;
            }
        }

        return false;
    }
}
