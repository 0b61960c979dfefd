using System.Diagnostics;
using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using Alpaca.Inference.Serving.Speculative;

namespace Alpaca.Inference.Serving;

/// <summary>
/// Step execution of a <see cref="ContinuousBatchScheduler"/>: one iteration over the running sequences.
/// <list type="number">
/// <item>Build one batch: the token every decoding sequence sampled last step, then up to
/// <c>prefillChunkTokens</c> prompt tokens of prefilling sequences, oldest first (chunked prefill: a long
/// prompt is spread over several steps, each of which still carries a token for every running stream).</item>
/// <item>Run one forward pass over it (every weight is read once for all running sequences).</item>
/// <item>Advance each sequence that got logits (<see cref="SequenceAdvance"/>): sample, stop checks, stream.</item>
/// </list>
/// With a draft model (<see cref="Speculative.DraftProposer"/>), a greedy decoding sequence contributes its
/// token and the draft's proposals, each with logits; <see cref="Speculative.DraftVerification"/> then walks
/// them, keeps the tokens the target itself would have chosen and cuts the KV cache back behind them.
/// Runs on the decode loop; allocates nothing per step once its buffers have grown.
/// </summary>
internal sealed class BatchStep
{
    // Rows sampled in parallel from this many (below, starting the parallel loop costs more than it saves).
    private const int ParallelSamplingFrom = 4;

    private readonly IEngineBackend _model;
    private readonly SequenceAdvance _advance;
    private readonly int _prefillChunkTokens;
    private readonly Batch _batch;
    private readonly DraftProposer? _proposer;
    private readonly List<Sequence> _speculating = [];

    // One unit per sequence with logits this step: its first logit row and how many rows it owns (1 + its
    // draft tokens); a unit's rows are sampled in order, units in parallel.
    private readonly List<(Sequence Sequence, int FirstRow, int Rows)> _units = [];
    private readonly Action<int> _sampleUnit;
    private SequenceFinishReason?[] _reasons = [];
    private int[] _advanced = [];

    public BatchStep(IEngineBackend model, SequenceAdvance advance, int prefillChunkTokens, DraftProposer? proposer = null)
    {
        _model = model;
        _advance = advance;
        _prefillChunkTokens = prefillChunkTokens;
        _proposer = proposer;
        _batch = new Batch(model.Cache.Slots + prefillChunkTokens);
        _sampleUnit = SampleUnit;
    }

    /// <summary>Called for each speculating sequence after verification with its proposed and accepted draft tokens.</summary>
    public Action<int, int>? Speculated { get; init; }

    /// <summary>Tokens in the last step's batch.</summary>
    public int BatchTokens => _batch.Count;

    /// <summary>The last step's forward pass.</summary>
    public TimeSpan ForwardTime { get; private set; }

    /// <summary>A sequence ended or was preempted: its draft KV slot is freed.</summary>
    public void Release(Sequence s) => _proposer?.Release(s);

    /// <summary>
    /// Runs one step; <paramref name="finished"/> is called, after every row is sampled, for each sequence
    /// that ended. A failing forward pass throws before any sequence has changed.
    /// </summary>
    public void Run(List<Sequence> running, Action<Sequence, SequenceFinishReason> finished)
    {
        var started = Stopwatch.GetTimestamp();
        Propose(running);
        BuildBatch(running);
        _model.Forward(_batch);
        ForwardTime = Stopwatch.GetElapsedTime(started);

        // Advance prompt positions; a decoding sequence's position moves as its rows are sampled.
        foreach (var s in running)
        {
            if (s.Prefilling)
            {
                s.Cached += s.Scheduled;
                s.Scheduled = 0;
            }
        }

        // Sampling is per sequence, so with several of them it runs on all cores while the engine's workers
        // are idle; a 32k-vocabulary softmax per sequence is otherwise a visible share of a batched step.
        var units = _units.Count;
        if (_reasons.Length < units)
        {
            _reasons = new SequenceFinishReason?[units * 2];
            _advanced = new int[units * 2];
        }

        if (units >= ParallelSamplingFrom)
        {
            Parallel.For(0, units, _sampleUnit);
        }
        else
        {
            for (var unit = 0; unit < units; unit++)
            {
                SampleUnit(unit);
            }
        }

        // Rollback and finishing (freeing slots) are sequential.
        for (var unit = 0; unit < units; unit++)
        {
            var (s, _, rows) = _units[unit];
            if (rows > 1)
            {
                if (_reasons[unit] is null)
                {
                    DraftVerification.Rollback(_model.Cache, s);
                    _proposer!.Rollback(s);
                }

                Speculated?.Invoke(rows - 1, _advanced[unit] - 1);
            }

            if (_reasons[unit] is { } reason)
            {
                finished(s, reason);
            }
        }
    }

    // Each greedy decoding sequence gets a draft budget (what its max_tokens, the context, the draft's context
    // and the KV pool allow) and the draft's proposals for it.
    private void Propose(List<Sequence> running)
    {
        if (_proposer is null)
        {
            return;
        }

        _speculating.Clear();
        foreach (var s in running)
        {
            s.DraftBudget = 0;
            if (s.Prefilling || !s.Request.Sampling.IsGreedy)
            {
                continue;
            }

            var budget = DraftVerification.Budget(s, _proposer.Tokens, _model.Cache.ContextLength, _proposer.ContextLength);
            if (budget > 0 && _model.Cache.TryReserve(s.Slot, s.Cached + 1 + budget))
            {
                s.DraftBudget = budget;
                if (s.Draft.Length < _proposer.Tokens)
                {
                    s.Draft = new int[_proposer.Tokens];
                }

                _speculating.Add(s);
            }
        }

        if (_speculating.Count > 0)
        {
            _proposer.Propose(_speculating);
        }
    }

    private void BuildBatch(List<Sequence> running)
    {
        _batch.Clear();
        _units.Clear();

        // Decoding sequences first: each contributes the token it sampled last step, then its draft tokens.
        foreach (var s in running)
        {
            if (!s.Prefilling)
            {
                _units.Add((s, _batch.LogitCount, 1 + s.DraftBudget));
                _batch.Add(s.NextInput, s.Cached, s.Slot, logits: true);
                for (var i = 0; i < s.DraftBudget; i++)
                {
                    _batch.Add(s.Draft[i], s.Cached + 1 + i, s.Slot, logits: true);
                }
            }
        }

        // Then a bounded chunk of prompt tokens, oldest request first, so a long prompt is spread over
        // several steps instead of stalling every stream for its whole length.
        var budget = _prefillChunkTokens;
        foreach (var s in running)
        {
            if (budget == 0)
            {
                break;
            }

            if (s.Prefilling)
            {
                // A resumed (preempted) sequence re-prefills its history without sampling: its last
                // token goes in as a decode step next, as it would have without the preemption.
                var n = Math.Min(budget, s.Prefill - s.Cached);
                var completes = s.Cached + n == s.Prefill && s.Generated == 0;
                for (var i = 0; i < n; i++)
                {
                    _batch.Add(s.TokenAt(s.Cached + i), s.Cached + i, s.Slot, logits: completes && i == n - 1);
                }

                budget -= n;
                s.Scheduled = n;
                if (completes)
                {
                    _units.Add((s, _batch.LogitCount - 1, 1));
                }
            }
        }
    }

    private void SampleUnit(int unit)
    {
        var (s, first, rows) = _units[unit];
        if (s.Generated == 0)
        {
            // Its prompt's last position (already counted in s.Cached) gives the first token.
            _reasons[unit] = _advance.Advance(s, _model.Logits(first));
            _advanced[unit] = 1;
            return;
        }

        _reasons[unit] = DraftVerification.Walk(_advance, _model, s, first, rows, out _advanced[unit]);
    }
}
