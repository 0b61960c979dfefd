namespace Alpaca.Inference.Sampling;

/// <summary>
/// Chooses tokens from logits according to <see cref="SamplingParams"/>, with its own seeded RNG and the
/// token history the penalties need. One per sequence; reuses its buffers (no allocation per token
/// except the optional log-probability report).
/// </summary>
public sealed class Sampler
{
    private readonly SamplingParams _p;
    private readonly int _vocab;
    private readonly Xoshiro256StarStar _rng;
    private readonly float[] _logits;
    private readonly int[] _counts;
    private readonly List<int> _history = [];
    private Candidate[] _candidates;

    public Sampler(SamplingParams parameters, int vocabSize)
    {
        _p = parameters.Validate();
        _vocab = vocabSize;
        _rng = new Xoshiro256StarStar(parameters.Seed ?? (ulong)Random.Shared.NextInt64());
        _logits = new float[vocabSize];
        _counts = new int[vocabSize];
        _candidates = new Candidate[vocabSize];
    }

    public SamplingParams Parameters => _p;

    /// <summary>Adds context tokens (prompt or generated) that the penalties consider.</summary>
    public void Accept(int token) => _history.Add(token);

    public void Accept(IEnumerable<int> tokens) => _history.AddRange(tokens);

    public void Reset() => _history.Clear();

    /// <summary>Chooses the next token. With <paramref name="logProb"/> requested, also reports its log-probability.</summary>
    public int Sample(ReadOnlySpan<float> logits, bool wantLogProb, out TokenLogProb? logProb)
    {
        if (logits.Length != _vocab)
        {
            throw new ArgumentException($"Expected {_vocab} logits, got {logits.Length}.", nameof(logits));
        }

        logits.CopyTo(_logits);
        ApplyPenalties(_logits);
        var token = _p.IsGreedy ? ArgMax(_logits) : Draw(_logits);
        logProb = wantLogProb ? LogProbs.Of(logits, token, _p.TopLogProbs) : null;
        return token;
    }

    private void ApplyPenalties(float[] logits)
    {
        if (_p.RepetitionPenalty == 1f && _p.FrequencyPenalty == 0f && _p.PresencePenalty == 0f)
        {
            return;
        }

        var start = _p.PenaltyLastN < 0 ? 0 : Math.Max(0, _history.Count - _p.PenaltyLastN);
        for (var i = start; i < _history.Count; i++)
        {
            _counts[_history[i]]++;
        }

        for (var i = start; i < _history.Count; i++)
        {
            var t = _history[i];
            var count = _counts[t];
            if (count == 0)
            {
                continue; // already applied for an earlier occurrence
            }

            var l = logits[t];
            if (_p.RepetitionPenalty != 1f)
            {
                l = l > 0 ? l / _p.RepetitionPenalty : l * _p.RepetitionPenalty;
            }

            logits[t] = l - count * _p.FrequencyPenalty - _p.PresencePenalty;
            _counts[t] = 0;
        }
    }

    /// <summary>The greedy choice: the first index of the largest logit (a draft model proposes with it too).</summary>
    internal static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    private int Draw(float[] logits)
    {
        // Temperature, then softmax over all tokens (in double for the normalisation).
        var invT = 1.0 / _p.Temperature;
        var max = logits.Max();
        var n = _vocab;
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            var p = Math.Exp((logits[i] - max) * invT);
            _candidates[i] = new Candidate(i, p);
            sum += p;
        }

        var count = n;
        var sorted = false;

        // Top-k and top-p only ever keep a prefix of the descending order, so only the candidates at or
        // above some probability t need sorting: every token with p ≥ t precedes every token below it,
        // so if they number at least k (top-k) or carry at least the top-p mass, the kept prefix lies
        // among them and the result is identical to sorting the whole vocabulary (ties included).
        var topK = _p.TopK > 0 && _p.TopK < n;
        if (topK || _p.TopP < 1f)
        {
            count = CompactAboveThreshold(count, topK ? _p.TopK : 0, sum);
        }

        if (topK)
        {
            SortDescending(count);
            sorted = true;
            count = _p.TopK;
            sum = 0;
            for (var i = 0; i < count; i++)
            {
                sum += _candidates[i].P;
            }
        }

        if (_p.TopP < 1f)
        {
            if (!sorted)
            {
                SortDescending(count);
                sorted = true;
            }

            var target = _p.TopP * sum;
            var cumulative = 0.0;
            var keep = 0;
            while (keep < count)
            {
                cumulative += _candidates[keep++].P;
                if (cumulative >= target)
                {
                    break;
                }
            }

            count = keep;
            sum = cumulative;
        }

        if (_p.MinP > 0f)
        {
            var top = 0.0;
            for (var i = 0; i < count; i++)
            {
                top = Math.Max(top, _candidates[i].P);
            }

            var threshold = _p.MinP * top;
            var kept = 0;
            sum = 0;
            for (var i = 0; i < count; i++)
            {
                if (_candidates[i].P >= threshold)
                {
                    _candidates[kept++] = _candidates[i];
                    sum += _candidates[i].P;
                }
            }

            count = kept;
        }

        var u = _rng.NextDouble() * sum;
        var acc = 0.0;
        for (var i = 0; i < count; i++)
        {
            acc += _candidates[i].P;
            if (u < acc)
            {
                return _candidates[i].Token;
            }
        }

        return _candidates[count - 1].Token; // rounding left u at the very top
    }

    /// <summary>
    /// Moves the candidates with p ≥ t to the front (in token order) and returns how many there are, for
    /// the largest t of the form 10⁻³ʲ whose set is big enough for top-k and heavy enough for top-p.
    /// The largest p is exactly 1 (exp(0) of the top logit), so thresholds are relative to it as they stand.
    /// </summary>
    private int CompactAboveThreshold(int count, int needK, double sum)
    {
        var needMass = _p.TopP < 1f ? _p.TopP * sum : 0.0;
        for (var threshold = 1e-3; threshold >= 1e-30; threshold *= 1e-3)
        {
            var above = 0;
            var mass = 0.0;
            for (var i = 0; i < count; i++)
            {
                var p = _candidates[i].P;
                if (p >= threshold)
                {
                    above++;
                    mass += p;
                }
            }

            // The mass is compared with a margin: summed in another order than the cumulative walk, it
            // could differ from it in the last bits.
            if (above >= needK && mass >= needMass * (1 + 1e-9))
            {
                var kept = 0;
                for (var i = 0; i < count; i++)
                {
                    if (_candidates[i].P >= threshold)
                    {
                        _candidates[kept++] = _candidates[i];
                    }
                }

                return kept;
            }
        }

        return count;
    }

    // Full sort, descending probability, ties by token id so results do not depend on the sort algorithm.
    private void SortDescending(int count) =>
        Array.Sort(_candidates, 0, count, Comparer<Candidate>.Create(static (a, b) => a.P != b.P ? b.P.CompareTo(a.P) : a.Token.CompareTo(b.Token)));

    private readonly record struct Candidate(int Token, double P);
}
