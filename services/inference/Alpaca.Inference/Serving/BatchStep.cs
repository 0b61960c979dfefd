using System.Diagnostics;
using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;

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
    private readonly List<Sequence> _rowOwners = [];
    private readonly Action<int> _sampleRow;
    private SequenceFinishReason?[] _reasons = [];

    public BatchStep(IEngineBackend model, SequenceAdvance advance, int prefillChunkTokens)
    {
        _model = model;
        _advance = advance;
        _prefillChunkTokens = prefillChunkTokens;
        _batch = new Batch(model.Cache.Slots + prefillChunkTokens);
        _sampleRow = SampleRow;
    }

    /// <summary>Tokens in the last step's batch.</summary>
    public int BatchTokens => _batch.Count;

    /// <summary>The last step's forward pass.</summary>
    public TimeSpan ForwardTime { get; private set; }

    /// <summary>
    /// Runs one step; <paramref name="finished"/> is called, after every row is sampled, for each sequence
    /// that ended. A failing forward pass throws before any sequence has changed.
    /// </summary>
    public void Run(List<Sequence> running, Action<Sequence, SequenceFinishReason> finished)
    {
        BuildBatch(running);

        var started = Stopwatch.GetTimestamp();
        _model.Forward(_batch);
        ForwardTime = Stopwatch.GetElapsedTime(started);

        // Advance prompt positions, then sample in logit-row order (the batch order above).
        foreach (var s in running)
        {
            if (s.Prefilling)
            {
                s.Cached += s.Scheduled;
                s.Scheduled = 0;
            }
            else
            {
                s.Cached++; // its fed-back token
            }
        }

        // Sampling is per sequence, so with several rows it runs on all cores while the engine's workers
        // are idle; a 32k-vocabulary softmax per sequence is otherwise a visible share of a batched step.
        var rows = _rowOwners.Count;
        if (_reasons.Length < rows)
        {
            _reasons = new SequenceFinishReason?[rows * 2];
        }

        if (rows >= ParallelSamplingFrom)
        {
            Parallel.For(0, rows, _sampleRow);
        }
        else
        {
            for (var row = 0; row < rows; row++)
            {
                SampleRow(row);
            }
        }

        // Finishing (freeing slots) is sequential.
        for (var row = 0; row < rows; row++)
        {
            if (_reasons[row] is { } reason)
            {
                finished(_rowOwners[row], reason);
            }
        }
    }

    private void BuildBatch(List<Sequence> running)
    {
        _batch.Clear();
        _rowOwners.Clear();

        // Decoding sequences first: each contributes the token it sampled last step.
        foreach (var s in running)
        {
            if (!s.Prefilling)
            {
                _batch.Add(s.NextInput, s.Cached, s.Slot, logits: true);
                _rowOwners.Add(s);
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
                    _rowOwners.Add(s);
                }
            }
        }
    }

    private void SampleRow(int row) => _reasons[row] = _advance.Advance(_rowOwners[row], _model.Logits(row));
}
