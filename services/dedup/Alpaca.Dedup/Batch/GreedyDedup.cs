using System.Diagnostics;
using Alpaca.Dedup.Index;
using Alpaca.Dedup.Pool;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Batch;

/// <summary>
/// Alpaca's greedy dedup of a whole batch, exactly as the serial reference decides it, on every core.
/// Only the decisions are sequential (candidate i depends on which earlier ones were kept), so candidates
/// go in blocks of B:
/// <list type="number">
/// <item><b>Search</b>, in parallel: each candidate of the block against the pool as it was before the
/// block — its exact max F and first argmax (<see cref="MaxSimilaritySearch"/>), or with the extras its
/// F against every entry (<see cref="PoolScorer"/>).</item>
/// <item><b>Settle</b>, in order: each candidate against the block's members kept before it (at most
/// B²/2 small pairs), which completes its max F over the pool the reference would see; then decide, and
/// a kept candidate joins the index at once. Members sit after every earlier entry, so only a strictly
/// greater F moves the argmax.</item>
/// <item>With the extras: the top 10 and the pairwise mean of each kept candidate, in parallel.</item>
/// </list>
/// The element order is the batch's own token frequencies, rarest first, known up front.
/// </summary>
public static class GreedyDedup
{
    public static GreedyDedupResult Run(IReadOnlyList<string> seeds, IReadOnlyList<string> candidates, GreedyDedupOptions? options = null)
    {
        options ??= new GreedyDedupOptions();
        if (!(options.Threshold is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Threshold, "The threshold must be in (0, 1].");
        }

        var threads = Math.Max(1, options.Threads ?? Environment.ProcessorCount);
        var blockSize = Math.Max(1, options.BlockSize);

        var watch = Stopwatch.StartNew();
        var vocabulary = new TokenVocabulary();
        var seedTokens = new int[seeds.Count][];
        for (var i = 0; i < seeds.Count; i++)
        {
            seedTokens[i] = vocabulary.Intern(seeds[i]);
        }

        var tokens = new int[candidates.Count][];
        for (var i = 0; i < candidates.Count; i++)
        {
            tokens[i] = vocabulary.Intern(candidates[i]);
        }

        var frequency = RenumberByFrequency(vocabulary.Count, seedTokens, tokens);
        var tokenize = watch.Elapsed;
        watch.Restart();

        var state = new BatchState(new SimilarityIndex(new ElementOrder(frequency)), vocabulary.Count, options.Threshold, candidates.Count);
        for (var i = 0; i < seeds.Count; i++)
        {
            state.Index.Add(seedTokens[i]);
            state.Texts.Add(seeds[i]);
        }

        var workers = Enumerable.Range(0, threads).Select(_ => new Worker(state.Index)).ToArray();
        var blocks = new BlockRunner(state, workers, tokens, candidates, options.AlpacaExtras);
        for (var start = 0; start < candidates.Count; start += blockSize)
        {
            blocks.Run(start, Math.Min(candidates.Count, start + blockSize));
        }

        state.Stats.Add(blocks.SettleCounters);
        foreach (var worker in workers)
        {
            state.Stats.Add(worker.Counters);
        }

        return new GreedyDedupResult(state.Decisions, state.Texts, state.Stats, tokenize, watch.Elapsed, threads);
    }

    /// <summary>
    /// Renumbers token ids by descending frequency over the batch and returns the frequencies by new id.
    /// Ids only index the mask tables, so this changes no result; but the words most texts are made of
    /// ("the", "a", "of") then share a few cache lines of each table instead of being spread over it.
    /// </summary>
    private static int[] RenumberByFrequency(int vocabularySize, int[][] seeds, int[][] candidates)
    {
        var frequency = new int[vocabularySize];
        foreach (var text in seeds.Concat(candidates))
        {
            foreach (var t in text)
            {
                frequency[t]++;
            }
        }

        var keys = new long[vocabularySize];
        var ids = new int[vocabularySize];
        for (var t = 0; t < vocabularySize; t++)
        {
            keys[t] = ((long)-frequency[t] << 32) | (uint)t;
            ids[t] = t;
        }

        Array.Sort(keys, ids);
        var newId = new int[vocabularySize];
        var renumbered = new int[vocabularySize];
        for (var r = 0; r < ids.Length; r++)
        {
            newId[ids[r]] = r;
            renumbered[r] = frequency[ids[r]];
        }

        foreach (var text in seeds.Concat(candidates))
        {
            for (var k = 0; k < text.Length; k++)
            {
                text[k] = newId[text[k]];
            }
        }

        return renumbered;
    }
}
