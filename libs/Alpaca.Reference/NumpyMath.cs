using System.Numerics;

namespace Alpaca.Reference;

/// <summary>
/// numpy's summation order for float32 and float64 arrays, so that <c>np.sum</c> and <c>np.mean</c>
/// (e.g. self-instruct's <c>avg_similarity_score</c>) are reproduced bit for bit: the type's own precision
/// throughout, as numpy accumulates, and numpy's pairwise sum.
/// </summary>
public static class NumpyMath
{
    /// <summary>
    /// numpy's reduction loop hands the add loop at most one buffer of elements at a time
    /// (<c>np.getbufsize()</c>, 8192), even for a contiguous array that needs no buffering.
    /// </summary>
    public const int BufferSize = 8192;

    /// <summary>
    /// <c>np.sum(a)</c>, i.e. <c>np.add.reduce</c>: starting from add's identity +0.0 (so an array of negative
    /// zeros sums to +0.0), each buffer of <see cref="BufferSize"/> elements is summed pairwise and added to
    /// the running total. Arrays up to 8192 elements are one pairwise sum; longer ones are not.
    /// </summary>
    public static T Sum<T>(ReadOnlySpan<T> a) where T : IFloatingPointIeee754<T>
    {
        var total = T.Zero;
        for (var start = 0; start < a.Length; start += BufferSize)
        {
            total += PairwiseSum(a.Slice(start, Math.Min(BufferSize, a.Length - start)));
        }

        return total;
    }

    /// <summary><c>np.mean(a)</c>: <see cref="Sum{T}"/> divided by n; NaN for an empty array (where numpy also warns).</summary>
    public static T Mean<T>(ReadOnlySpan<T> a) where T : IFloatingPointIeee754<T> =>
        a.Length == 0 ? T.NaN : Sum(a) / T.CreateChecked(a.Length);

    /// <summary>
    /// numpy's <c>pairwise_sum_DOUBLE</c>/<c>_FLOAT</c> (loops_utils.h): under 8 elements a plain loop; up to
    /// 128 eight accumulators combined as a tree, then the remainder; above that the halves, split at
    /// n/2 rounded down to a multiple of 8.
    /// </summary>
    private static T PairwiseSum<T>(ReadOnlySpan<T> a) where T : IFloatingPointIeee754<T>
    {
        var n = a.Length;
        if (n < 8)
        {
            var res = T.NegativeZero;
            for (var i = 0; i < n; i++)
            {
                res += a[i];
            }

            return res;
        }

        if (n <= 128)
        {
            T r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
            var i = 8;
            for (; i < n - (n % 8); i += 8)
            {
                r0 += a[i];
                r1 += a[i + 1];
                r2 += a[i + 2];
                r3 += a[i + 3];
                r4 += a[i + 4];
                r5 += a[i + 5];
                r6 += a[i + 6];
                r7 += a[i + 7];
            }

            var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < n; i++)
            {
                res += a[i];
            }

            return res;
        }

        var n2 = n / 2;
        n2 -= n2 % 8;
        return PairwiseSum(a[..n2]) + PairwiseSum(a[n2..]);
    }
}
