using System.Diagnostics;
using Alpaca.Dedup.Pool;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Batch;

/// <summary>
/// Alpaca's greedy dedup of a whole batch, exactly, in two phases:
/// <list type="number">
/// <item><b>Decide</b> (sequential: candidate i depends on which earlier ones were kept). A candidate is
/// rejected iff some pool entry has F &gt; 0.7, which needs a multiset overlap I ≥ ⌈7m/13⌉ on its side
/// and ⌈7n/13⌉ on the entry's. With the elements (token, k-th occurrence) in one global order (rarest
/// first over the batch), such a pair must share an element within the candidate's first m − ⌈7m/13⌉ + 1
/// elements and the entry's first n − ⌈7n/13⌉ + 1 (PPJoin prefix filtering). Only those prefixes are
/// indexed and probed; each pair met passes the length bound before a bit-parallel LCS. Every pair with
/// F &gt; 0.7 is met, so a rejected candidate's max F and first argmax are exact too.</item>
/// <item><b>Score</b> the kept candidates (in parallel on all cores: the pool before each is now known):
/// the exact max F and first argmax over the entries before it, by <see cref="MaxSimilaritySearch"/>.</item>
/// </list>
/// </summary>
public static class GreedyDedup
{
    public sealed record Result(IReadOnlyList<DedupDecision> Decisions, DedupStats Stats, TimeSpan Tokenize, TimeSpan Decide, TimeSpan Score, int PoolSize);

    public static Result Run(IReadOnlyList<string> seeds, IReadOnlyList<string> candidates, double threshold = DedupPool.DefaultThreshold, int? threads = null)
    {
        var watch = Stopwatch.StartNew();
        var vocabulary = new TokenVocabulary();
        var seedTokens = seeds.Select(vocabulary.Intern).ToList();
        var candidateTokens = candidates.Select(vocabulary.Intern).ToList();
        var tokenize = watch.Elapsed;

        watch.Restart();
        // Global element order: token frequency over the batch, rarest first.
        var frequency = new int[vocabulary.Count];
        foreach (var t in seedTokens.Concat(candidateTokens))
        {
            foreach (var id in t)
            {
                frequency[id]++;
            }
        }

        var stats = new DedupStats();
        var pool = new List<int[]>(seeds.Count + candidates.Count);
        var prefixIndex = new Dictionary<long, List<int>>();
        var decisions = new DedupDecision[candidates.Count];
        var positions = new int[candidates.Count];
        var seen = new int[seeds.Count + candidates.Count];
        var stamp = 0;
        var countX = new int[vocabulary.Count]; // occurrences of each token in the candidate
        var usedY = new int[vocabulary.Count];  // scratch for the multiset intersection

        void AddToPool(int[] tokens)
        {
            var position = pool.Count;
            pool.Add(tokens);
            var elements = Elements(tokens, frequency);
            var prefix = tokens.Length - Required(tokens.Length) + 1;
            for (var e = 0; e < prefix && e < elements.Length; e++)
            {
                if (!prefixIndex.TryGetValue(elements[e], out var list))
                {
                    prefixIndex[elements[e]] = list = [];
                }

                list.Add(position);
            }
        }

        foreach (var tokens in seedTokens)
        {
            AddToPool(tokens);
        }

        for (var i = 0; i < candidates.Count; i++)
        {
            var x = candidateTokens[i];
            var m = x.Length;
            stats.Decided++;
            stats.PairsTotal += pool.Count;
            var best = 0.0;
            var bestPos = -1;
            if (m > 0)
            {
                var elements = Elements(x, frequency);
                var prefix = m - Required(m) + 1;
                LcsMasks? masks = null;
                stamp++;
                foreach (var t in x)
                {
                    countX[t]++;
                }

                for (var e = 0; e < prefix && e < elements.Length; e++)
                {
                    if (!prefixIndex.TryGetValue(elements[e], out var list))
                    {
                        continue;
                    }

                    foreach (var pos in list)
                    {
                        if (seen[pos] == stamp)
                        {
                            continue;
                        }

                        seen[pos] = stamp;
                        stats.PairsTouched++;
                        var n = pool[pos].Length;
                        if (20 * Math.Min(m, n) < 7 * (m + n))
                        {
                            continue; // F ≤ 2·min/(m+n) < 0.7 with a rational gap far above rounding
                        }

                        // Exact bound: F ≤ 2I/(m+n) with I the multiset intersection.
                        var y = pool[pos];
                        var overlap = 0;
                        foreach (var t in y)
                        {
                            if (usedY[t]++ < countX[t])
                            {
                                overlap++;
                            }
                        }

                        foreach (var t in y)
                        {
                            usedY[t] = 0;
                        }

                        if (20 * overlap < 7 * (m + n))
                        {
                            continue;
                        }

                        masks ??= new LcsMasks(x);
                        stats.PairsScored++;
                        var f = RougeScore.F(masks.Lcs(y), m, n);
                        if (f > threshold && (f > best || (f == best && pos < bestPos)))
                        {
                            best = f;
                            bestPos = pos;
                        }
                    }
                }
            }

            foreach (var t in x)
            {
                countX[t] = 0;
            }

            if (bestPos >= 0)
            {
                decisions[i] = new DedupDecision(false, best, bestPos, -1, null);
                positions[i] = -1;
            }
            else
            {
                positions[i] = pool.Count;
                AddToPool(x);
                stats.Kept++;
            }
        }

        var decide = watch.Elapsed;
        watch.Restart();

        // Full inverted index of the final pool (postings in position order) for the exact max F of kept ones.
        var postings = new List<List<TokenPosting>>(vocabulary.Count);
        for (var t = 0; t < vocabulary.Count; t++)
        {
            postings.Add([]);
        }

        for (var pos = 0; pos < pool.Count; pos++)
        {
            foreach (var (token, count) in DedupPool.DistinctCounts(pool[pos]))
            {
                postings[token].Add(new TokenPosting(pos, count));
            }
        }

        var kept = Enumerable.Range(0, candidates.Count).Where(i => positions[i] >= 0).ToArray();
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount };
        Parallel.ForEach(
            System.Collections.Concurrent.Partitioner.Create(0, kept.Length, 256),
            options,
            () => new MaxSimilaritySearch(pool, postings),
            (range, _, search) =>
            {
                for (var k = range.Item1; k < range.Item2; k++)
                {
                    var i = kept[k];
                    var (maxF, argMax) = search.Find(candidateTokens[i], positions[i], stats);
                    decisions[i] = new DedupDecision(true, maxF, argMax, positions[i], null);
                }

                return search;
            },
            _ => { });

        return new Result(decisions, stats, tokenize, decide, watch.Elapsed, pool.Count);
    }

    /// <summary>Overlap a pair needs on this side to reach F &gt; 0.7 (or its boundary): ⌈7·len/13⌉.</summary>
    private static int Required(int length) => (7 * length + 12) / 13;

    /// <summary>The elements (token, k-th occurrence) of a text in the global order: rarest token first.</summary>
    private static long[] Elements(int[] tokens, int[] frequency)
    {
        var occurrences = new Dictionary<int, int>();
        var elements = new (int Frequency, int Token, int K)[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            occurrences[tokens[i]] = occurrences.TryGetValue(tokens[i], out var k) ? k + 1 : 0;
            elements[i] = (frequency[tokens[i]], tokens[i], occurrences[tokens[i]]);
        }

        Array.Sort(elements);
        return elements.Select(e => ((long)e.Token << 20) | (uint)e.K).ToArray();
    }
}
