using System.Diagnostics;
using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using Alpaca.Inference.Serving.Speculative;

namespace Alpaca.Inference.Serving;

/// <summary>
/// Continuous (iteration-level) batching over one <see cref="Engine"/>, in the manner of Orca/vLLM/TGI:
/// one decode-loop thread owns the model; at every step it
/// <list type="number">
/// <item>drops sequences that were cancelled or passed their deadline (their KV slot is free for this very step),</item>
/// <item>admits waiting requests first come, first served while KV cache slots and blocks are free (reusing cached prefixes),</item>
/// <item>gives every decoding sequence a block for its next position, preempting the newest when the pool runs out,</item>
/// <item>runs one batched step: a token for every decoding sequence plus a chunk of prompt tokens, one
/// forward pass, then sampling, stop checks and streaming per sequence.</item>
/// </list>
/// The policy of the first two lives in <see cref="AdmissionQueue"/>, the step in <see cref="BatchStep"/>;
/// this class owns the loop, the running set and how a request ends. Submission is thread-safe;
/// everything else happens on the loop thread.
/// </summary>
public sealed class ContinuousBatchScheduler : IDisposable
{
    private readonly Engine _engine;
    private readonly IEngineBackend _model;
    private readonly ISchedulerObserver? _observer;
    private readonly AdmissionQueue _admission;
    private readonly BatchStep _step;
    private readonly List<Sequence> _running = [];
    private readonly Action<Sequence, SequenceFinishReason> _finish;
    private readonly Action<Sequence, SequenceFinishReason> _retire;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private int _disposed;

    public ContinuousBatchScheduler(Engine engine, SchedulerOptions? options = null, ISchedulerObserver? observer = null, string name = "model")
    {
        options ??= new SchedulerOptions();
        _engine = engine;
        _model = engine.Model;
        _observer = observer;
        _admission = new AdmissionQueue(options.MaxQueue, _model.Cache);
        _step = new BatchStep(_model, new SequenceAdvance(engine.Tokenizer, _model.Cache.ContextLength, observer), options.PrefillChunkTokens, Proposer(engine, options.Speculation))
        {
            Speculated = (drafted, accepted) =>
            {
                DraftTokens += drafted;
                AcceptedDraftTokens += accepted;
                _observer?.Speculated(drafted, accepted);
            },
        };
        _finish = Finish;
        _retire = (s, reason) =>
        {
            _running.Remove(s);
            Finish(s, reason);
        };
        _thread = new Thread(Loop) { IsBackground = true, Name = $"decode-loop {name}" };
        _thread.Start();
    }

    public Engine Engine => _engine;

    /// <summary>KV cache slots: sequences that can run at once.</summary>
    public int Slots => _model.Cache.Slots;

    public int ContextLength => _model.Cache.ContextLength;

    /// <summary>Requests waiting for a slot.</summary>
    public int Waiting => _admission.Waiting;

    /// <summary>Requests submitted and not yet finished (waiting or running).</summary>
    public int InFlight => _admission.InFlight;

    /// <summary>Requests ever accepted by this scheduler (monotonic).</summary>
    public long Accepted => _admission.Accepted;

    /// <summary>Sequences holding a KV slot.</summary>
    public int Running { get; private set; }

    /// <summary>KV blocks held by running sequences over all blocks, 0..1.</summary>
    public double KvCacheUsage { get; private set; }

    /// <summary>Sequences preempted (their KV blocks given up, to be recomputed) so far.</summary>
    public long Preemptions { get; private set; }

    /// <summary>Most sequences running at once so far.</summary>
    public int PeakRunning { get; private set; }

    /// <summary>Speculative decoding: draft tokens the target verified so far.</summary>
    public long DraftTokens { get; private set; }

    /// <summary>Speculative decoding: draft tokens the target kept (its own greedy choice) so far.</summary>
    public long AcceptedDraftTokens { get; private set; }

    /// <summary>Steps (forward passes) run so far.</summary>
    public long Steps { get; private set; }

    /// <summary>True once <see cref="BeginDrain"/> was called.</summary>
    public bool IsDraining => _admission.IsDraining;

    /// <summary>Completes when draining and every in-flight request has finished.</summary>
    public Task Drained => _drained.Task;

    /// <summary>How long a refused caller should wait: about one request's time, since that frees a slot.</summary>
    public TimeSpan RetryAfter => _admission.RetryAfter;

    /// <summary>
    /// Queues a request. <paramref name="cancellation"/> ends it (queued or running) within one step,
    /// freeing its slot.
    /// </summary>
    public SubmitOutcome TrySubmit(SequenceRequest request, CancellationToken cancellation, out SequenceHandle? handle)
    {
        ArgumentNullException.ThrowIfNull(request);
        handle = null;
        _admission.CheckFits(request);

        // Built before queueing: a sampler allocates vocabulary-sized buffers.
        var seed = request.Sampling.Seed ?? (ulong)Random.Shared.NextInt64();
        var sequence = new Sequence(request, seed, _model.VocabSize, _engine.Tokenizer, cancellation);
        var outcome = _admission.TryEnqueue(sequence);
        if (outcome != SubmitOutcome.Accepted)
        {
            _observer?.Rejected(outcome);
            return outcome;
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
        _admission.BeginDrain();
        _wake.Set();
    }

    private void Loop()
    {
        while (!_admission.IsStopping)
        {
            _wake.Reset();
            _admission.TakeArrivals();
            _admission.Reap(DateTime.UtcNow, _running, _finish);
            _admission.Admit(_running, _observer);
            Publish(0, TimeSpan.Zero);

            if (_running.Count == 0)
            {
                if (_admission.IsDrained())
                {
                    _drained.TrySetResult();
                    return;
                }

                // Idle (or every slot's sequence is gone): sleep until a submission or cancellation, but
                // wake now and then so queued deadlines are honoured.
                _wake.Wait(TimeSpan.FromMilliseconds(100));
                continue;
            }

            ReserveDecodeBlocks();
            try
            {
                _step.Run(_running, _retire);
            }
            catch (Exception ex)
            {
                FailRunning(ex);
                continue;
            }

            Steps++;
            Publish(_step.BatchTokens, _step.ForwardTime);
        }
    }

    // Every decoding sequence needs a block for its next position; when the pool has none left the newest
    // running sequence gives its blocks up (vLLM's preemption by recompute) until the older ones fit.
    private void ReserveDecodeBlocks()
    {
        for (var i = 0; i < _running.Count; i++)
        {
            var s = _running[i];
            if (s.Prefilling)
            {
                continue; // admission reserved its whole prefill
            }

            while (!_model.Cache.TryReserve(s.Slot, s.Cached + 1))
            {
                var victim = _running[^1];
                Preempt(victim);
                if (ReferenceEquals(victim, s))
                {
                    break;
                }
            }
        }
    }

    // Checked here so every way of building a scheduler refuses a draft that cannot speak the target's ids.
    private static DraftProposer? Proposer(Engine engine, SpeculationOptions? speculation)
    {
        if (speculation is null)
        {
            return null;
        }

        if (speculation.Tokens is < 1 or > SpeculationOptions.MaxTokens)
        {
            throw new ArgumentException($"Speculation.Tokens = {speculation.Tokens} is out of range [1, {SpeculationOptions.MaxTokens}] (draft tokens per step).");
        }

        DraftCompatibility.Check(engine, speculation.Draft);
        return new DraftProposer(speculation);
    }

    private void Preempt(Sequence s)
    {
        _running.Remove(s);
        var lost = s.Cached;
        _step.Release(s);
        _model.Cache.Free(s.Slot);
        s.Preempt();
        _admission.Requeue(s);
        Preemptions++;
        _observer?.Preempted(lost);
    }

    // The engine failed (a bug, or memory): fail every running request rather than the process.
    private void FailRunning(Exception ex)
    {
        foreach (var s in _running)
        {
            _step.Release(s);
            _model.Cache.Free(s.Slot);
            s.Events.Writer.TryComplete(ex);
            _admission.Completed(ranFor: null);
        }

        _running.Clear();
    }

    private void Finish(Sequence s, SequenceFinishReason reason)
    {
        _step.Release(s);
        if (s.Slot >= 0)
        {
            _model.Cache.Free(s.Slot);
            s.Slot = -1;
        }

        var elapsed = Stopwatch.GetElapsedTime(s.SubmittedAt);
        s.Events.Writer.TryWrite(new SequenceFinished(reason, s.Request.PromptTokens.Count, s.Generated, s.Stops.Matched, s.Seed));
        s.Events.Writer.TryComplete();
        _admission.Completed(reason == SequenceFinishReason.Cancelled ? null : elapsed);
        _observer?.Finished(reason, elapsed, s.Generated);
    }

    private void Publish(int batchTokens, TimeSpan forward)
    {
        Running = _running.Count;
        PeakRunning = Math.Max(PeakRunning, Running);
        _admission.SetFreeSlots(_model.Cache.Slots - _running.Count);

        // Blocks held by running sequences (cached, unheld blocks are reusable, so they count as free).
        var cache = _model.Cache;
        KvCacheUsage = (double)(cache.Blocks - cache.FreeBlocks) / cache.Blocks;
        _observer?.Step(_running.Count, Waiting, KvCacheUsage, batchTokens, forward);
    }

    /// <summary>Stops the loop; requests still in flight end as cancelled. Does not dispose the engine.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _admission.Stop();
        _wake.Set();
        _thread.Join();
        foreach (var s in _running.Concat(_admission.TakeAll()))
        {
            _step.Release(s);
            if (s.Slot >= 0)
            {
                _model.Cache.Free(s.Slot);
                s.Slot = -1;
            }

            s.Events.Writer.TryWrite(new SequenceFinished(SequenceFinishReason.Cancelled, s.Request.PromptTokens.Count, s.Generated, null, s.Seed));
            s.Events.Writer.TryComplete();
        }

        _running.Clear();
        _drained.TrySetResult();
    }
}
