using System.Collections.Concurrent;
using Alpaca.Dedup.Index;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Pool;

/// <summary>
/// Alpaca's ROUGE-L pool, incrementally: seed instructions, then every kept candidate in order. A candidate
/// is kept when its F1 to every pool instruction is ≤ <see cref="Threshold"/> (strictly greater rejects),
/// and a kept candidate joins the pool at once. Decisions carry the exact max F and the first position
/// reaching it (<see cref="MaxSimilaritySearch"/>), and optionally Alpaca's extras (every pair scored).
/// <para>Thread-safe for one writer and many readers: <see cref="Check"/> runs concurrently under a read
/// lock (each reader rents its own search scratch); <see cref="Submit(string, bool)"/>, <see cref="Add(string)"/>
/// and <see cref="Tokenize"/> take the write lock. A service must still serialise "check, log, insert"
/// sequences itself if it needs them atomic.</para>
/// <para>The index's element order follows token frequencies; it is re-derived whenever the pool doubles,
/// at fixed sizes, so re-adding the same instructions in the same order rebuilds the same state (and any
/// order gives the same, exact decisions).</para>
/// </summary>
public sealed class DedupPool
{
    public const double DefaultThreshold = 0.7;
    private const int FirstReorder = 64;
    private const int ParallelScanMinimum = 16_384;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly TokenVocabulary _vocabulary = new();
    private readonly List<string> _texts = [];
    private readonly SimilarityIndex _index = new(new ElementOrder([]));
    private readonly ConcurrentBag<MaxSimilaritySearch> _searches = [];
    private readonly ConcurrentBag<PoolScorer> _scorers = [];
    private int[] _frequency = new int[1024];
    private int _nextReorder = FirstReorder;

    public DedupPool(double threshold = DefaultThreshold)
    {
        if (!(threshold is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be in (0, 1].");
        }

        Threshold = threshold;
    }

    public DedupPool(IEnumerable<string> seeds, double threshold = DefaultThreshold)
        : this(threshold)
    {
        foreach (var seed in seeds)
        {
            Add(seed);
        }
    }

    public double Threshold { get; }

    /// <summary>Pool size: seeds plus kept candidates.</summary>
    public int Count => Read(() => _texts.Count);

    public DedupStats Stats { get; } = new();

    /// <summary>The pool instruction at a position.</summary>
    public string this[int position] => Read(() => _texts[position]);

    /// <summary>A snapshot of the pool instructions in order.</summary>
    public IReadOnlyList<string> Instructions => Read(() => _texts.ToArray());

    /// <summary>Tokenizes and interns a text (so callers can time tokenizing apart from deciding).</summary>
    public int[] Tokenize(string instruction) => Write(() => _vocabulary.Intern(instruction));

    /// <summary>Adds an instruction without a decision (seeds, or rebuilding a stored pool in order).</summary>
    public int Add(string instruction) => Write(() => Insert(instruction, _vocabulary.Intern(instruction)));

    /// <summary>Adds an instruction tokenized by <see cref="Tokenize"/>, without a decision.</summary>
    public int Add(string instruction, int[] tokens) => Write(() => Insert(instruction, tokens));

    /// <summary>Decides a candidate against the pool as it is, without inserting it.</summary>
    public DedupDecision Check(string instruction, bool withExtras = false) =>
        Read(() => Decide(_vocabulary.Lookup(instruction), withExtras, insert: null));

    /// <summary>Decides a candidate and inserts it when kept.</summary>
    public DedupDecision Submit(string instruction, bool withExtras = false) =>
        Write(() => Decide(_vocabulary.Intern(instruction), withExtras, insert: instruction));

    /// <summary>Decides a candidate tokenized by <see cref="Tokenize"/> and inserts it when kept.</summary>
    public DedupDecision Submit(string instruction, int[] tokens, bool withExtras = false) =>
        Write(() => Decide(tokens, withExtras, insert: instruction));

    private DedupDecision Decide(int[] x, bool withExtras, string? insert)
    {
        var poolSize = _texts.Count;
        double maxF;
        int argMax;
        DedupExtras? extras = null;
        if (withExtras)
        {
            var scores = ScoreAll(x);
            (maxF, argMax) = PoolScorer.ArgMax(scores);
            if (maxF <= Threshold)
            {
                extras = AlpacaExtras.Compute(scores, i => _texts[i]);
            }
        }
        else
        {
            var counters = default(SearchCounters);
            var search = _searches.TryTake(out var s) ? s : new MaxSimilaritySearch(_index);
            (maxF, argMax) = search.Find(x, _vocabulary.Count, ref counters);
            _searches.Add(search);
            Stats.Add(counters);
        }

        var kept = maxF <= Threshold;
        Stats.AddDecision(poolSize, kept);
        var position = kept && insert is not null ? Insert(insert, x) : -1;
        return new DedupDecision(kept, maxF, argMax, position, extras);
    }

    /// <summary>F1 against every pool entry, split across cores for large pools.</summary>
    private double[] ScoreAll(int[] x)
    {
        var count = _index.Count;
        var scores = new double[count];
        var scorer = _scorers.TryTake(out var s) ? s : new PoolScorer();
        scorer.Load(x, _vocabulary.Count);
        var parts = count < ParallelScanMinimum ? 1 : Environment.ProcessorCount;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p =>
        {
            var (from, to) = ((int)((long)count * p / parts), (int)((long)count * (p + 1) / parts));
            scorer.Score(_index, from, to, scores.AsSpan(from, to - from));
        });
        _scorers.Add(scorer);
        Stats.Add(new SearchCounters { Touched = count, Scored = x.Length == 0 ? 0 : count });
        return scores;
    }

    private int Insert(string instruction, int[] tokens)
    {
        foreach (var t in tokens)
        {
            if (t < 0 || t >= _vocabulary.Count)
            {
                throw new ArgumentException("Tokens must come from this pool's Tokenize.", nameof(tokens));
            }

            if (t >= _frequency.Length)
            {
                Array.Resize(ref _frequency, Math.Max(t + 1, _frequency.Length * 2));
            }

            _frequency[t]++;
        }

        _texts.Add(instruction);
        var position = _index.Add(tokens);
        if (_index.Count == _nextReorder)
        {
            // Rarest-first by the frequencies now: only speed depends on it, never a decision.
            _index.Reorder(new ElementOrder(_frequency.AsSpan(0, _vocabulary.Count)));
            _nextReorder *= 2;
        }

        return position;
    }

    private T Read<T>(Func<T> action)
    {
        _lock.EnterReadLock();
        try
        {
            return action();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private T Write<T>(Func<T> action)
    {
        _lock.EnterWriteLock();
        try
        {
            return action();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }
}
