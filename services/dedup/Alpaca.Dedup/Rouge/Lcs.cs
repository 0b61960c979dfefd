namespace Alpaca.Dedup.Rouge;

/// <summary>
/// Longest common subsequence length of two token-id sequences (the L of ROUGE-L).
/// <see cref="Reference"/> is the plain dynamic programme of rouge_score's <c>_lcs_table</c>;
/// <see cref="BitParallel"/> is the fast kernel (<see cref="CandidateMasks"/>) the engine uses. Tests
/// compare the two on random and long inputs.
/// </summary>
public static class Lcs
{
    /// <summary>The O(m·n) table of rouge_score, kept one row at a time.</summary>
    public static int Reference(ReadOnlySpan<int> x, ReadOnlySpan<int> y)
    {
        if (x.Length == 0 || y.Length == 0)
        {
            return 0;
        }

        var previous = new int[y.Length + 1];
        var current = new int[y.Length + 1];
        for (var i = 1; i <= x.Length; i++)
        {
            for (var j = 1; j <= y.Length; j++)
            {
                current[j] = x[i - 1] == y[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        return previous[y.Length];
    }

    /// <summary>Bit-parallel LCS of two sequences of non-negative token ids (builds x's masks once).</summary>
    public static int BitParallel(ReadOnlySpan<int> x, ReadOnlySpan<int> y)
    {
        var vocabulary = 0;
        foreach (var t in x)
        {
            vocabulary = Math.Max(vocabulary, t + 1);
        }

        foreach (var t in y)
        {
            vocabulary = Math.Max(vocabulary, t + 1);
        }

        var masks = new CandidateMasks();
        masks.Load(x, vocabulary);
        return masks.Lcs(y);
    }
}
