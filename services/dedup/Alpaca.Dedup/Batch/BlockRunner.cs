using System.Runtime.CompilerServices;
using Alpaca.Dedup.Index;
using Alpaca.Dedup.Pool;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Batch;

/// <summary>What the blocks share: the growing pool and the decisions so far.</summary>
internal sealed class BatchState(SimilarityIndex index, int vocabularySize, double threshold, int candidates)
{
    public SimilarityIndex Index { get; } = index;

    public int VocabularySize { get; } = vocabularySize;

    public double Threshold { get; } = threshold;

    public List<string> Texts { get; } = [];

    public DedupDecision[] Decisions { get; } = new DedupDecision[candidates];

    public DedupStats Stats { get; } = new();
}

/// <summary>One thread's scratch: a search, a full scorer, and its counters.</summary>
internal sealed class Worker(SimilarityIndex index)
{
    public MaxSimilaritySearch Search { get; } = new(index);

    public PoolScorer Scorer { get; } = new();

    public SearchCounters Counters;
}

/// <summary>
/// One block of the batch (see <see cref="GreedyDedup"/>): search in parallel against the pool before the
/// block, settle in order, and with the extras finish the kept ones in parallel.
/// </summary>
internal sealed class BlockRunner(BatchState state, Worker[] workers, int[][] tokens, IReadOnlyList<string> texts, bool extras)
{
    private readonly (double MaxF, int ArgMax)[] _found = new (double, int)[texts.Count];
    private readonly CandidateMasks _settleMasks = new();
    private readonly List<int> _members = [];
    private double[][] _scores = [];
    private SearchCounters _settleCounters;
    private int _next;

    /// <summary>The settle phase's counters (the workers keep their own).</summary>
    public SearchCounters SettleCounters => _settleCounters;

    public void Run(int start, int end)
    {
        var poolBefore = state.Index.Count;
        if (extras)
        {
            EnsureScoreBuffers(end - start, poolBefore + (end - start));
        }

        // 1. Search against the pool before the block, in parallel (the index is read-only meanwhile).
        _next = start;
        ForEachWorker(worker =>
        {
            int c;
            while ((c = Interlocked.Increment(ref _next) - 1) < end)
            {
                if (extras)
                {
                    worker.Scorer.Load(tokens[c], state.VocabularySize);
                    var scores = _scores[c - start].AsSpan(0, poolBefore);
                    worker.Scorer.Score(state.Index, 0, poolBefore, scores);
                    worker.Counters.Touched += poolBefore;
                    worker.Counters.Scored += tokens[c].Length == 0 ? 0 : poolBefore;
                    _found[c] = PoolScorer.ArgMax(scores);
                }
                else
                {
                    _found[c] = worker.Search.Find(tokens[c], state.VocabularySize, ref worker.Counters);
                }
            }
        });

        // 2. Settle in order against the block's members kept so far; kept ones join the index.
        _members.Clear();
        for (var c = start; c < end; c++)
        {
            var (best, bestPos) = Settle(c, start);
            var kept = best <= state.Threshold;
            state.Stats.AddDecision(state.Index.Count, kept);
            var position = -1;
            if (kept)
            {
                position = state.Index.Add(tokens[c]);
                state.Texts.Add(texts[c]);
                _members.Add(position);
            }

            state.Decisions[c] = new DedupDecision(kept, best, bestPos, position, null);
        }

        // 3. The extras of the kept ones: each over exactly the pool it was decided against.
        if (extras)
        {
            _next = start;
            ForEachWorker(_ =>
            {
                int c;
                while ((c = Interlocked.Increment(ref _next) - 1) < end)
                {
                    var d = state.Decisions[c];
                    if (d.Kept)
                    {
                        var scores = _scores[c - start].AsSpan(0, d.PoolPosition);
                        state.Decisions[c] = d with { Extras = AlpacaExtras.Compute(scores, i => state.Texts[i]) };
                    }
                }
            });
        }
    }

    /// <summary>
    /// Completes candidate c's max F with the block's members kept before it. Without the extras the
    /// same bounds as the search skip most members: F ≤ 2·I/(m+n) with I ≤ min(m, n) and
    /// I ≤ |sig(x) ∩ sig(y)| + min(m − |sig(x)|, n − |sig(y)|) (see MaxSimilaritySearch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (double Best, int BestPos) Settle(int c, int start)
    {
        var (best, bestPos) = _found[c];
        if (_members.Count == 0)
        {
            return (best, bestPos);
        }

        var x = tokens[c];
        var m = x.Length;
        var index = state.Index;
        var signature = index.Order.Signature(x);
        var rest = m - signature.Count;
        var loaded = false;
        foreach (var member in _members)
        {
            var n = index.Length(member);
            _settleCounters.Touched++;
            if (!extras && bestPos >= 0)
            {
                var need = best - MaxSimilaritySearch.Margin;
                var other = index.Signatures[member];
                var overlap = Math.Min(Math.Min(m, n), other.Shared(signature) + Math.Min(rest, n - other.Count));
                if (m == 0 || 2.0 * overlap < need * (m + n))
                {
                    _settleCounters.Bounded++;
                    continue; // cannot reach the best F
                }
            }

            if (!loaded && m > 0)
            {
                _settleMasks.Load(x, state.VocabularySize);
                loaded = true;
            }

            var lcs = m == 0 ? 0 : _settleMasks.Lcs(index.Tokens(member));
            var f = lcs == 0 ? 0.0 : RougeScore.F(lcs, m, n);
            _settleCounters.Scored += m == 0 ? 0 : 1;
            if (extras)
            {
                _scores[c - start][member] = f;
            }

            // Members come after every earlier entry and in order: only a greater F moves the argmax.
            if (f > best || bestPos < 0)
            {
                (best, bestPos) = (f, member);
            }
        }

        return (best, bestPos);
    }

    private void ForEachWorker(Action<Worker> body)
    {
        if (workers.Length == 1)
        {
            body(workers[0]);
            return;
        }

        Parallel.For(0, workers.Length, new ParallelOptions { MaxDegreeOfParallelism = workers.Length }, w => body(workers[w]));
    }

    private void EnsureScoreBuffers(int count, int length)
    {
        if (_scores.Length < count)
        {
            Array.Resize(ref _scores, count);
        }

        for (var i = 0; i < count; i++)
        {
            if (_scores[i] is null || _scores[i].Length < length)
            {
                _scores[i] = new double[Math.Max(length, (_scores[i]?.Length ?? 0) * 3 / 2)];
            }
        }
    }
}
