using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// What the 8-row interleaved x86 kernels (<see cref="QuantKernels"/>, <see cref="KQuantPackedKernels"/>) share:
/// one Vector256&lt;float&gt; holds the outputs of a group's 8 rows.
/// </summary>
internal static unsafe class Vector256Rows
{
    /// <summary>4 activation bytes repeated over the register (one per row's 4-column dot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Broadcast4(sbyte* p) => Vector256.Create(*(int*)p).AsSByte();

    /// <summary>Stores the group's 8 row outputs at y[row0..], only those below <paramref name="rowEnd"/> for the last group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> sum, float* y, int row0, int rowEnd)
    {
        if (row0 + Vector256<float>.Count <= rowEnd)
        {
            sum.Store(y + row0);
        }
        else
        {
            for (var r = 0; row0 + r < rowEnd; r++)
            {
                y[row0 + r] = sum.GetElement(r);
            }
        }
    }
}
