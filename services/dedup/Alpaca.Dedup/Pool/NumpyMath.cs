namespace Alpaca.Dedup.Pool;

/// <summary>numpy's summation order, so <c>avg_similarity_score</c> matches <c>np.mean</c> bit for bit.</summary>
public static class NumpyMath
{
    /// <summary><c>np.mean</c> of a float64 array: numpy's pairwise sum (blocks of 8, 128-element leaves) divided by n.</summary>
    public static double Mean(ReadOnlySpan<double> values) => values.Length == 0 ? double.NaN : PairwiseSum(values) / values.Length;

    /// <summary>numpy's <c>pairwise_sum_DOUBLE</c>.</summary>
    public static double PairwiseSum(ReadOnlySpan<double> a)
    {
        var n = a.Length;
        if (n < 8)
        {
            var res = 0.0;
            for (var i = 0; i < n; i++)
            {
                res += a[i];
            }

            return res;
        }

        if (n <= 128)
        {
            double r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
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
