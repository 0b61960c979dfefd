using System.Collections.Concurrent;
using System.Diagnostics;
using Alpaca.Inference.Model;

namespace Alpaca.Inference.Serving;

/// <summary>
/// Continuous (iteration-level) batching over one <see cref="Engine"/>, in the manner of Orca/vLLM/TGI:
/// one decode-loop thread owns the model; at every step it
/// <list type="number">
/// <item>drops sequences that were cancelled or passed their deadline (their KV slot is free for this very step),</item>
/// <item>admits waiting requests first come, first served while KV cache slots are free,</item>
/// <item>builds one batch: one token for every decoding sequence, then up to <see cref="SchedulerOptions.PrefillChunkTokens"/>
/// prompt tokens of prefilling sequences (chunked prefill, oldest first),</item>
/// <item>runs one forward pass over it (every weight is read once for all running sequences), and</item>
/// <item>samples each sequence's next token, streams its text and retires the finished ones.</item>
/// </list>
/// The wait queue is bounded: a full queue refuses at once (the caller answers RESOURCE_EXHAUSTED).
/// Submission is thread-safe; everything else happens on the loop thread.
/// </summary>
public sealed class ContinuousBatchScheduler : IDisposable
{
    // Rows sampled in parallel from this many (below, starting the parallel loop costs more than it saves).
    private const int ParallelSamplingFrom = 4;

    private readonly Engine _engine;
    private readonly LlamaModel _model;
    private readonly SchedulerOptions _options;
    private readonly ISchedulerObserver? _observer;
    private readonly ConcurrentQueue<Sequence> _incoming = new();
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly List<Sequence> _rowOwners = [];
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly object _submitGate = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Batch _batch;
    private readonly Action<int> _sampleRow;
    private SequenceFinishReason?[] _reasons = [];
    private readonly Thread _thread;
    private int _queued;
    private int _disposed;
    private int _freeSlots;
    private int _inFlight;
    private volatile bool _draining;
    private volatile bool _stopping;
    private double _meanRequestSeconds = 1;

    public ContinuousBatchScheduler(Engine engine, SchedulerOptions? options = null, ISchedulerObserver? observer = null, string name = "model")
    {
        _engine = engine;
        _model = engine.Model;
        _options = options ?? new SchedulerOptions();
        _observer = observer;
        _batch = new Batch(_model.Cache.Slots + _options.PrefillChunkTokens);
        _sampleRow = SampleRow;
        _freeSlots = _model.Cache.Slots;
        _thread = new Thread(Loop) { IsBackground = true, Name = $"decode-loop {name}" };
        _thread.Start();
    }

    public Engine Engine => _engine;

    /// <summary>KV cache slots: sequences that can run at once.</summary>
    public int Slots => _model.Cache.Slots;

    public int ContextLength => _model.Cache.ContextLength;

    /// <summary>Requests waiting for a slot.</summary>
    public int Waiting => Volatile.Read(ref _queued);

    /// <summary>Requests submitted and not yet finished (waiting or running).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Sequences holding a KV slot.</summary>
    public int Running { get; private set; }

    /// <summary>Filled KV positions over all positions of all slots, 0..1.</summary>
    public double KvCacheUsage { get; private set; }

    /// <summary>Steps (forward passes) run so far.</summary>
    public long Steps { get; private set; }

    /// <summary>True once <see cref="BeginDrain"/> was called.</summary>
    public bool IsDraining => _draining;

    /// <summary>Completes when draining and every in-flight request has finished.</summary>
    public Task Drained => _drained.Task;

    /// <summary>How long a refused caller should wait: about one request's time, since that frees a slot.</summary>
    public TimeSpan RetryAfter => TimeSpan.FromSeconds(Math.Clamp(Volatile.Read(ref _meanRequestSeconds), 0.05, 30));

    /// <summary>
    /// Queues a request. <paramref name="cancellation"/> ends it (queued or running) within one step,
    /// freeing its slot.
    /// </summary>
    public SubmitOutcome TrySubmit(SequenceRequest request, CancellationToken cancellation, out SequenceHandle? handle)
    {
        ArgumentNullException.ThrowIfNull(request);
        handle = null;
        if (request.PromptTokens.Count == 0 || request.PromptTokens.Count >= ContextLength)
        {
            throw new ArgumentException($"The prompt has {request.PromptTokens.Count} tokens; it must have 1 to {ContextLength - 1}.", nameof(request));
        }

        // Built before taking the gate: a sampler allocates vocabulary-sized buffers.
        var seed = request.Sampling.Seed ?? (ulong)Random.Shared.NextInt64();
        var sequence = new Sequence(request, seed, _model.VocabSize, _engine.Tokenizer, cancellation);

        // Under the gate, so a request is either refused or seen by the loop before it decides it has drained.
        lock (_submitGate)
        {
            if (_draining || _stopping)
            {
                _observer?.Rejected(SubmitOutcome.Draining);
                return SubmitOutcome.Draining;
            }

            // A request that a free slot will take at the next step does not count as waiting.
            if (Interlocked.Increment(ref _queued) > _options.MaxQueue + Volatile.Read(ref _freeSlots))
            {
                Interlocked.Decrement(ref _queued);
                _observer?.Rejected(SubmitOutcome.QueueFull);
                return SubmitOutcome.QueueFull;
            }

            Interlocked.Increment(ref _inFlight);
            _incoming.Enqueue(sequence);
        }

        handle = new SequenceHandle(sequence.Events.Reader, request.PromptTokens.Count, seed);

        // Wake the loop at once when the caller goes away, so an idle-waiting loop reaps promptly.
        if (cancellation.CanBeCanceled)
        {
            cancellation.Register(static s => ((ManualResetEventSlim)s!).Set(), _wake);
        }

        _wake.Set();
        return SubmitOutcome.Accepted;
    }

    /// <summary>Stops taking requests; those already submitted run to the end, then <see cref="Drained"/> completes.</summary>
    public void BeginDrain()
    {
        lock (_submitGate)
        {
            _draining = true;
        }

        _wake.Set();
    }

    private void Loop()
    {
        while (!_stopping)
        {
            _wake.Reset();
            while (_incoming.TryDequeue(out var arrived))
            {
                _waiting.AddLast(arrived);
            }

            var now = DateTime.UtcNow;
            Reap(now);
            Admit();
            Publish(0, TimeSpan.Zero);

            if (_running.Count == 0)
            {
                lock (_submitGate)
                {
                    if (_draining && _waiting.Count == 0 && _incoming.IsEmpty)
                    {
                        _drained.TrySetResult();
                        return;
                    }
                }

                // Idle (or every slot's sequence is gone): sleep until a submission or cancellation, but
                // wake now and then so queued deadlines are honoured.
                _wake.Wait(TimeSpan.FromMilliseconds(100));
                continue;
            }

            Step();
        }
    }

    private void Reap(DateTime now)
    {
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.Expired(now))
            {
                _waiting.Remove(node);
                Interlocked.Decrement(ref _queued);
                Finish(node.Value, SequenceFinishReason.Cancelled);
            }

            node = next;
        }

        for (var i = _running.Count - 1; i >= 0; i--)
        {
            if (_running[i].Expired(now))
            {
                var sequence = _running[i];
                _running.RemoveAt(i);
                Finish(sequence, SequenceFinishReason.Cancelled);
            }
        }
    }

    // First come, first served: the oldest waiting request gets the next free slot, whoever sent it.
    private void Admit()
    {
        while (_waiting.First is { } node && _model.Cache.TryAllocate(out var slot))
        {
            _waiting.RemoveFirst();
            Interlocked.Decrement(ref _queued);
            var sequence = node.Value;
            sequence.Slot = slot;
            _running.Add(sequence);
            _observer?.Admitted(Stopwatch.GetElapsedTime(sequence.SubmittedAt), sequence.Request.PromptTokens.Count);
        }
    }

    private void Step()
    {
        _batch.Clear();
        _rowOwners.Clear();

        // Decoding sequences first: each contributes the token it sampled last step.
        foreach (var s in _running)
        {
            if (!s.Prefilling)
            {
                _batch.Add(s.NextInput, s.Cached, s.Slot, logits: true);
                _rowOwners.Add(s);
            }
        }

        // Then a bounded chunk of prompt tokens, oldest request first, so a long prompt is spread over
        // several steps instead of stalling every stream for its whole length.
        var budget = _options.PrefillChunkTokens;
        foreach (var s in _running)
        {
            if (budget == 0)
            {
                break;
            }

            if (s.Prefilling)
            {
                var prompt = s.Request.PromptTokens;
                var n = Math.Min(budget, prompt.Count - s.Cached);
                var completes = s.Cached + n == prompt.Count;
                for (var i = 0; i < n; i++)
                {
                    _batch.Add(prompt[s.Cached + i], s.Cached + i, s.Slot, logits: completes && i == n - 1);
                }

                budget -= n;
                s.Scheduled = n;
                if (completes)
                {
                    _rowOwners.Add(s);
                }
            }
        }

        var batchTokens = _batch.Count;
        var started = Stopwatch.GetTimestamp();
        try
        {
            _model.Forward(_batch);
        }
        catch (Exception ex)
        {
            // The engine failed (a bug, or memory): fail every running request rather than the process.
            foreach (var s in _running)
            {
                _model.Cache.Free(s.Slot);
                s.Events.Writer.TryComplete(ex);
                Interlocked.Decrement(ref _inFlight);
            }

            _running.Clear();
            return;
        }

        Steps++;
        var forward = Stopwatch.GetElapsedTime(started);

        // Advance prompt positions, then sample in logit-row order (the batch order above).
        foreach (var s in _running)
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

        // Sampling is per sequence (its own sampler, detokenizer and stop watcher), so with several rows
        // it runs on all cores while the engine's workers are idle; a 32k-vocabulary softmax per
        // sequence is otherwise a visible share of a batched step.
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

        for (var row = 0; row < rows; row++)
        {
            if (_reasons[row] is { } r)
            {
                var s = _rowOwners[row];
                _running.Remove(s);
                Finish(s, r);
            }
        }

        Publish(batchTokens, forward);
    }

    private void SampleRow(int row) => _reasons[row] = Advance(_rowOwners[row], _model.Logits(row));

    // Samples one token for the sequence and streams its text; returns a finish reason when it ends.
    private SequenceFinishReason? Advance(Sequence s, ReadOnlySpan<float> logits)
    {
        var request = s.Request;
        var tokenizer = _engine.Tokenizer;
        var canStop = s.Generated >= request.MinTokens;
        if (!canStop)
        {
            // min_tokens: EOS and stop token ids cannot be drawn yet.
            var masked = s.Masked ??= new float[logits.Length];
            logits.CopyTo(masked);
            if (!request.IgnoreEos && tokenizer.EosId >= 0)
            {
                masked[tokenizer.EosId] = float.NegativeInfinity;
            }

            foreach (var id in request.StopTokenIds)
            {
                masked[id] = float.NegativeInfinity;
            }

            logits = masked;
        }

        var token = s.Sampler.Sample(logits, request.LogProbs, out var logProb);
        s.Sampler.Accept(token);
        s.Generated++;
        s.NextInput = token;

        var now = Stopwatch.GetTimestamp();
        if (s.Generated == 1)
        {
            _observer?.FirstToken(Stopwatch.GetElapsedTime(s.SubmittedAt, now));
        }
        else
        {
            _observer?.NextToken(Stopwatch.GetElapsedTime(s.LastTokenAt, now));
        }

        s.LastTokenAt = now;
        var piece = new SequenceToken(token, PieceText(token), tokenizer.IsSpecial(token), logProb);
        var ends = canStop && ((!request.IgnoreEos && token == tokenizer.EosId) || Contains(request.StopTokenIds, token));
        if (ends)
        {
            s.Events.Writer.TryWrite(new SequenceDelta(s.Stops.Push(s.Detokenizer.Flush(), canStop) + s.Stops.Flush(), [piece]));
            return SequenceFinishReason.EndOfSequence;
        }

        var text = s.Stops.Push(s.Detokenizer.Append(token), canStop);
        if (s.Stops.Matched is { } stop)
        {
            s.Events.Writer.TryWrite(new SequenceDelta(request.IncludeStopInOutput ? text + stop : text, [piece]));
            return SequenceFinishReason.StopSequence;
        }

        var full = s.Generated >= request.MaxTokens || s.Cached + 1 >= _model.Cache.ContextLength;
        if (full)
        {
            text += s.Stops.Push(s.Detokenizer.Flush(), canStop) + s.Stops.Flush();
            if (s.Stops.Matched is { } late)
            {
                s.Events.Writer.TryWrite(new SequenceDelta(request.IncludeStopInOutput ? text + late : text, [piece]));
                return SequenceFinishReason.StopSequence;
            }
        }

        s.Events.Writer.TryWrite(new SequenceDelta(text, [piece]));
        return full ? SequenceFinishReason.Length : null;
    }

    private void Finish(Sequence s, SequenceFinishReason reason)
    {
        if (s.Slot >= 0)
        {
            _model.Cache.Free(s.Slot);
            s.Slot = -1;
        }

        var elapsed = Stopwatch.GetElapsedTime(s.SubmittedAt);
        if (reason != SequenceFinishReason.Cancelled)
        {
            // Exponential average of request time: the retry hint for refused callers.
            Volatile.Write(ref _meanRequestSeconds, (0.8 * _meanRequestSeconds) + (0.2 * elapsed.TotalSeconds));
        }

        s.Events.Writer.TryWrite(new SequenceFinished(reason, s.Request.PromptTokens.Count, s.Generated, s.Stops.Matched, s.Seed));
        s.Events.Writer.TryComplete();
        Interlocked.Decrement(ref _inFlight);
        _observer?.Finished(reason, elapsed, s.Generated);
    }

    private void Publish(int batchTokens, TimeSpan forward)
    {
        Running = _running.Count;
        Volatile.Write(ref _freeSlots, _model.Cache.Slots - _running.Count);
        long used = 0;
        foreach (var s in _running)
        {
            used += s.Cached;
        }

        KvCacheUsage = (double)used / ((long)_model.Cache.Slots * _model.Cache.ContextLength);
        _observer?.Step(_running.Count, Waiting, KvCacheUsage, batchTokens, forward);
    }

    // Byte-fallback pieces (<0xE2>) stay as written; SentencePiece's word marker becomes a space.
    private string PieceText(int token) => _engine.Tokenizer.TokenText(token).Replace('\u2581', ' ');

    private static bool Contains(IReadOnlyList<int> ids, int token)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == token)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Stops the loop; requests still in flight end as cancelled. Does not dispose the engine.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        lock (_submitGate)
        {
            _stopping = true;
        }

        _wake.Set();
        _thread.Join();
        foreach (var s in _running.Concat(_waiting).Concat(_incoming))
        {
            if (s.Slot >= 0)
            {
                _model.Cache.Free(s.Slot);
                s.Slot = -1;
            }

            s.Events.Writer.TryWrite(new SequenceFinished(SequenceFinishReason.Cancelled, s.Request.PromptTokens.Count, s.Generated, null, s.Seed));
            s.Events.Writer.TryComplete();
        }

        _running.Clear();
        _waiting.Clear();
        _drained.TrySetResult();
    }
}
