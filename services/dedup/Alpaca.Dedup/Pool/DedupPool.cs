using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Pool;

/// <summary>
/// Alpaca's ROUGE-L pool: seed instructions, then every kept candidate in order. A candidate is kept when
/// its F1 to every pool instruction is ≤ <see cref="Threshold"/> (strictly greater rejects), and a kept
/// candidate joins the pool at once.
///
/// Finding the exact maximum F1 without scoring every pair:
/// <list type="number">
/// <item>An inverted index maps each token to the pool entries holding it (with its count there); entries
/// sharing no token with the candidate have F = 0 exactly and are never visited.</item>
/// <item>Tokens are probed rarest first, accumulating the multiset intersection I per entry. Since
/// F ≤ 2·min(I, m, n)/(m+n), once the occurrences still unprobed (r) make 2r/(m+r) fall below the best F
/// found so far, no unvisited entry can reach it and the frequent tokens ("the", "a") are not probed.</item>
/// <item>Visited entries are verified by bit-parallel LCS in descending order of their bound, stopping when
/// the bound falls below the best F; ties keep the first pool position, as the reference's argmax does.</item>
/// </list>
/// Bounds are compared with a 1e-9 margin, far below the gap between distinct ratios yet above the one-ulp
/// difference between F's double and its rational value, so the bound never prunes an exact maximum.
/// One writer at a time; <see cref="Check"/> and <see cref="Submit"/> must be serialised by the caller.
/// </summary>
public sealed class DedupPool
{
    public const double DefaultThreshold = 0.7;

    private readonly TokenVocabulary _vocabulary = new();
    private readonly List<string> _texts = [];
    private readonly List<int[]> _tokens = [];
    private readonly List<List<TokenPosting>> _postings = [];
    private int[] _overlap = new int[1024];
    private readonly List<int> _touched = [];
    private MaxSimilaritySearch? _search;
    private double[] _scores = [];

    public DedupPool(double threshold = DefaultThreshold) => Threshold = threshold;

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
    public int Count => _texts.Count;

    public DedupStats Stats { get; } = new();

    /// <summary>The pool instruction at a position.</summary>
    public string this[int position] => _texts[position];

    public IReadOnlyList<string> Instructions => _texts;

    /// <summary>Adds an instruction without a decision (seeds, or rebuilding a stored pool in order).</summary>
    public int Add(string instruction) => Insert(instruction, _vocabulary.Intern(instruction));

    /// <summary>Tokenizes and interns a text once (so batch runs can time tokenizing apart from deciding).</summary>
    public int[] Tokenize(string instruction) => _vocabulary.Intern(instruction);

    /// <summary>Decides a pre-tokenized candidate (from <see cref="Tokenize"/>) and inserts it when kept.</summary>
    public DedupDecision Submit(string instruction, int[] tokens, bool withExtras = false) =>
        Decide(instruction, tokens, withExtras, insert: true);

    /// <summary>Adds a pre-tokenized instruction without a decision.</summary>
    public int Add(string instruction, int[] tokens) => Insert(instruction, tokens);

    /// <summary>Decides a candidate against the pool as it is, without inserting it.</summary>
    public DedupDecision Check(string instruction, bool withExtras = false) =>
        Decide(instruction, _vocabulary.Intern(instruction), withExtras, insert: false);

    /// <summary>Decides a candidate and inserts it when kept.</summary>
    public DedupDecision Submit(string instruction, bool withExtras = false) =>
        Decide(instruction, _vocabulary.Intern(instruction), withExtras, insert: true);

    private DedupDecision Decide(string instruction, int[] x, bool withExtras, bool insert)
    {
        Stats.Decided++;
        Stats.PairsTotal += Count;
        var (maxF, argMax) = withExtras ? (0, 0) : MaxSimilarity(x);
        DedupExtras? extras = null;
        if (withExtras)
        {
            var scores = ScoreAll(x);
            (maxF, argMax) = ArgMax(scores.AsSpan(0, Count));
            extras = Extras(scores.AsSpan(0, Count));
            ClearScores();
        }

        var kept = maxF <= Threshold;
        if (!kept)
        {
            extras = null;
        }

        var position = -1;
        if (kept && insert)
        {
            position = Insert(instruction, x);
            Stats.Kept++;
        }

        return new DedupDecision(kept, maxF, Count == 0 && position < 0 ? -1 : argMax, position, extras);
    }

    private int Insert(string instruction, int[] tokens)
    {
        var position = _texts.Count;
        _texts.Add(instruction);
        _tokens.Add(tokens);
        if (_overlap.Length <= position)
        {
            Array.Resize(ref _overlap, _overlap.Length * 2);
        }

        foreach (var (token, count) in DistinctCounts(tokens))
        {
            while (_postings.Count <= token)
            {
                _postings.Add([]);
            }

            _postings[token].Add(new TokenPosting(position, count));
        }

        return position;
    }

    /// <summary>Exact max F and the first position reaching it, visiting as few entries as the bounds allow.</summary>
    private (double MaxF, int ArgMax) MaxSimilarity(int[] x)
    {
        _search ??= new MaxSimilaritySearch(_tokens, _postings);
        var (maxF, argMax) = _search.Find(x, Count, Stats);
        return (maxF, argMax);
    }

    /// <summary>
    /// F1 against every pool entry (entries sharing no token score 0 without an LCS), the LCS work split
    /// across cores. Returns a scratch array owned by the pool: valid until the next call.
    /// </summary>
    private double[] ScoreAll(int[] x)
    {
        if (_scores.Length < Count)
        {
            _scores = new double[Math.Max(Count, _scores.Length * 2)];
        }

        var scores = _scores;
        var m = x.Length;
        if (m == 0)
        {
            return scores;
        }

        var masks = new LcsMasks(x);
        foreach (var (token, _) in DistinctCounts(x))
        {
            if (token >= _postings.Count)
            {
                continue;
            }

            foreach (var posting in _postings[token])
            {
                if (_overlap[posting.Position]++ == 0)
                {
                    _touched.Add(posting.Position);
                }
            }
        }

        var touched = _touched;
        var tokens = _tokens;
        void ScoreRange(int from, int to)
        {
            for (var k = from; k < to; k++)
            {
                var pos = touched[k];
                var y = tokens[pos];
                scores[pos] = RougeScore.F(masks.Lcs(y), m, y.Length);
            }
        }

        if (touched.Count < 4096)
        {
            ScoreRange(0, touched.Count);
        }
        else
        {
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, touched.Count, 2048), r => ScoreRange(r.Item1, r.Item2));
        }

        foreach (var pos in touched)
        {
            _overlap[pos] = 0;
        }

        Stats.PairsTouched += touched.Count;
        Stats.PairsScored += touched.Count;
        return scores;
    }

    /// <summary>Zeroes the entries of the scratch scores that a call of <see cref="ScoreAll"/> set.</summary>
    private void ClearScores()
    {
        foreach (var pos in _touched)
        {
            _scores[pos] = 0;
        }

        _touched.Clear();
    }

    private static (double MaxF, int ArgMax) ArgMax(ReadOnlySpan<double> scores)
    {
        if (scores.Length == 0)
        {
            return (0, -1);
        }

        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }

        return (scores[best], best);
    }

    private DedupExtras Extras(ReadOnlySpan<double> scores)
    {
        // Top 10 by score, highest first; equal scores in pool order (numpy's quicksort has no fixed tie order).
        var top = new List<int>(11);
        for (var i = 0; i < scores.Length; i++)
        {
            if (top.Count == 10 && scores[i] <= scores[top[^1]])
            {
                continue;
            }

            var at = top.Count;
            while (at > 0 && scores[top[at - 1]] < scores[i])
            {
                at--;
            }

            top.Insert(at, i);
            if (top.Count > 10)
            {
                top.RemoveAt(10);
            }
        }

        var similar = new List<SimilarInstruction>(top.Count);
        foreach (var i in top)
        {
            similar.Add(new SimilarInstruction(i, _texts[i], scores[i]));
        }

        return new DedupExtras(
            similar,
            scores.Length == 0 ? 0.0 : NumpyMath.Mean(scores));
    }

    internal static List<(int Token, int Count)> DistinctCounts(int[] tokens)
    {
        var counts = new List<(int Token, int Count)>(tokens.Length);
        foreach (var token in tokens)
        {
            var index = counts.FindIndex(c => c.Token == token);
            if (index < 0)
            {
                counts.Add((token, 1));
            }
            else
            {
                counts[index] = (token, counts[index].Count + 1);
            }
        }

        return counts;
    }


}
