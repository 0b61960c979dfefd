using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Tests;

/// <summary>
/// A plain transcription of the reference for tests: rouge_score's string tokens, its LCS table's recurrence on
/// string equality, F = 2PR/(P+R), and Alpaca's serial greedy loop scoring every pair. Shares nothing with
/// the engine's interning, masks or index.
/// </summary>
public static class BruteForce
{
    /// <summary>
    /// rouge_score's <c>_lcs_table</c>, the same recurrence cell by cell, keeping only the row above: the score
    /// needs only the last cell, and the full (m+1)×(n+1) table of two 10,000-token texts is 400 MB, which made
    /// one test take 18–90 s on a loaded 2-core machine (now about 1 s).
    /// </summary>
    public static int Lcs(IReadOnlyList<string> x, IReadOnlyList<string> y)
    {
        // Ordinal string equality, compared as numbers: each distinct string gets one (a plain dictionary).
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int Id(string s) => ids.TryGetValue(s, out var id) ? id : ids[s] = ids.Count;
        var xs = x.Select(Id).ToArray();
        var ys = y.Select(Id).ToArray();
        var above = new int[ys.Length + 1];
        var row = new int[ys.Length + 1];
        for (var i = 1; i <= xs.Length; i++)
        {
            for (var j = 1; j <= ys.Length; j++)
            {
                row[j] = xs[i - 1] == ys[j - 1] ? above[j - 1] + 1 : Math.Max(above[j], row[j - 1]);
            }

            (above, row) = (row, above);
        }

        return above[y.Count];
    }

    /// <summary><c>_score_lcs(target, prediction).fmeasure</c>.</summary>
    public static double F(string target, string prediction) => F(RougeTokenizer.Tokenize(target), RougeTokenizer.Tokenize(prediction));

    private static double F(List<string> t, List<string> p)
    {
        if (t.Count == 0 || p.Count == 0)
        {
            return 0.0;
        }

        var lcs = Lcs(t, p);
        var precision = (double)lcs / p.Count;
        var recall = (double)lcs / t.Count;
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    }


    /// <summary>numpy's argmax: the first position of the maximum; (0, −1) for an empty pool.</summary>
    public static (double Max, int ArgMax) ArgMax(double[] scores)
    {
        if (scores.Length == 0)
        {
            return (0.0, -1);
        }

        var max = scores.Max();
        return (max, Array.IndexOf(scores, max));
    }

    public sealed record Decision(bool Kept, double MaxF, int MostSimilar, double[] Scores);

    /// <summary>Alpaca's loop: every candidate against every kept instruction, kept ones join at once.</summary>
    public static List<Decision> Greedy(IEnumerable<string> seeds, IEnumerable<string> candidates, double threshold = 0.7)
    {
        // Token lists are computed once per text, as the reference does.
        var pool = seeds.Select(RougeTokenizer.Tokenize).ToList();
        var decisions = new List<Decision>();
        foreach (var candidate in candidates.Select(RougeTokenizer.Tokenize))
        {
            var scores = pool.Select(p => F(candidate, p)).ToArray();
            var (max, arg) = ArgMax(scores);
            var kept = max <= threshold;
            decisions.Add(new Decision(kept, max, arg, scores));
            if (kept)
            {
                pool.Add(candidate);
            }
        }

        return decisions;
    }
}
