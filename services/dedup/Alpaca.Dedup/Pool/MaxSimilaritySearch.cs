using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Pool;

/// <summary>A pool entry holding a token, with the token's count in it.</summary>
public readonly record struct TokenPosting(int Position, int Count);

/// <summary>
/// The exact maximum ROUGE-L F1 of a candidate against the pool entries before a position, and the
/// first position reaching it. Reads the pool's token lists and inverted index (postings in ascending
/// position order) without changing them; keeps its own scratch, so one instance per thread.
/// <list type="number">
/// <item>Entries sharing no token have F = 0 exactly and are never visited.</item>
/// <item>Tokens are probed rarest first, accumulating the multiset intersection I per entry. Since
/// F ≤ 2·min(I, m, n)/(m+n), once the r occurrences still unprobed make 2r/(m+r) fall below the best F
/// found so far, no unvisited entry can reach it, and the frequent tokens are never probed.</item>
/// <item>Visited entries are verified by bit-parallel LCS in descending order of their bound (bucketed),
/// stopping below the best F; equal F keeps the first position, like the reference's argmax.</item>
/// </list>
/// Bounds are compared with a 1e-9 margin: far below the gap between distinct ratios 2I/(m+n), yet above
/// the one-ulp difference between F's double and its rational value, so no exact maximum is pruned.
/// </summary>
public sealed class MaxSimilaritySearch(IReadOnlyList<int[]> tokens, IReadOnlyList<List<TokenPosting>> postings)
{
    private const double Margin = 1e-9;
    private const int Buckets = 1024;

    private readonly List<int> _touched = [];
    private readonly List<int>[] _buckets = Enumerable.Range(0, Buckets + 1).Select(_ => new List<int>()).ToArray();
    private readonly HashSet<int> _verified = [];
    private int[] _overlap = new int[1024];

    /// <summary>Searches entries at positions below <paramref name="limit"/>.</summary>
    public (double MaxF, int ArgMax) Find(int[] x, int limit, DedupStats? stats = null)
    {
        var m = x.Length;
        if (limit == 0)
        {
            return (0, -1);
        }

        if (m == 0)
        {
            return (0, 0);
        }

        if (_overlap.Length < limit)
        {
            _overlap = new int[Math.Max(limit, _overlap.Length * 2)];
        }

        var masks = new LcsMasks(x);
        var best = 0.0;
        var bestPos = 0; // every entry scores 0 until one shares a token, so the first position reaches 0
        _verified.Clear();
        var probe = DedupPool.DistinctCounts(x)
            .Select(tc => (tc.Token, tc.Count, Frequency: tc.Token < postings.Count ? postings[tc.Token].Count : 0))
            .Where(t => t.Frequency > 0)
            .OrderBy(t => t.Frequency)
            .ToList();
        var remaining = probe.Sum(t => t.Count);
        var leader = -1;
        var leaderOverlap = 0;
        long scored = 0;

        void Verify(int pos)
        {
            if (!_verified.Add(pos))
            {
                return;
            }

            scored++;
            var y = tokens[pos];
            var f = RougeScore.F(masks.Lcs(y), m, y.Length);
            if (f > best || (f == best && pos < bestPos))
            {
                best = f;
                bestPos = pos;
            }
        }

        foreach (var (token, count, _) in probe)
        {
            // No entry outside the visited set can still reach the best F: stop probing new tokens.
            if (best > 0 && 2.0 * remaining / (m + remaining) < best - Margin)
            {
                break;
            }

            foreach (var posting in postings[token])
            {
                var pos = posting.Position;
                if (pos >= limit)
                {
                    break;
                }

                if (_overlap[pos] == 0)
                {
                    _touched.Add(pos);
                }

                var overlap = _overlap[pos] += Math.Min(count, posting.Count);
                if (overlap > leaderOverlap)
                {
                    leaderOverlap = overlap;
                    leader = pos;
                }
            }

            remaining -= count;
            if (leader >= 0)
            {
                Verify(leader); // an early good F makes the stop test above bite sooner
            }
        }

        stats?.AddTouched(_touched.Count);

        foreach (var pos in _touched)
        {
            var n = tokens[pos].Length;
            var bound = 2.0 * Math.Min(_overlap[pos] + remaining, Math.Min(m, n)) / (m + n);
            _overlap[pos] = 0;
            if (bound >= best - Margin)
            {
                _buckets[(int)(Math.Min(bound, 1.0) * Buckets)].Add(pos);
            }
        }

        _touched.Clear();
        for (var b = Buckets; b >= 0; b--)
        {
            var bucket = _buckets[b];
            if (bucket.Count == 0)
            {
                continue;
            }

            if ((b + 1.0) / Buckets >= best - Margin)
            {
                foreach (var pos in bucket)
                {
                    Verify(pos);
                }
            }

            bucket.Clear();
        }

        stats?.AddScored(scored);
        return (best, bestPos);
    }
}
