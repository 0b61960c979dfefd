using System.Collections.Concurrent;
using System.Diagnostics;
using Alpaca.Inference.Backends;

namespace Alpaca.Inference.Serving;

/// <summary>
/// Admission and queue policy of a <see cref="ContinuousBatchScheduler"/>: which requests are taken, in what
/// order they get a KV cache slot, and when a waiting or running one is dropped.
/// <list type="bullet">
/// <item>A prompt must leave the context room for one new token (checked before it is queued).</item>
/// <item>The wait queue is bounded: one request more than <see cref="SchedulerOptions.MaxQueue"/> (not counting
/// those a free slot takes at the next step) is refused, with a retry hint of about one request's time.</item>
/// <item>Draining (a hot swap or unload) refuses new requests; accepted ones still run.</item>
/// <item>Slots go first come, first served, whoever sent the request, while the KV block pool can hold the prompt;
/// a request reuses the longest cached prefix of its prompt.</item>
/// <item>A request whose caller cancelled or whose deadline passed ends, queued or running.</item>
/// </list>
/// Submission is thread-safe; <see cref="TakeArrivals"/>, <see cref="Reap"/> and <see cref="Admit"/> run on the decode loop.
/// </summary>
internal sealed class AdmissionQueue(int maxQueue, IKvSlots cache)
{
    private readonly ConcurrentQueue<Sequence> _incoming = new();
    private readonly LinkedList<Sequence> _waiting = new();

    // Orders a submission against the loop's "drained" decision, so a request racing a hot swap is either
    // refused (and resubmitted to the new model) or served.
    private readonly object _gate = new();
    private int _queued;
    private int _freeSlots = cache.Slots;
    private int _inFlight;
    private long _accepted;
    private volatile bool _draining;
    private volatile bool _stopping;
    private double _meanRequestSeconds = 1;

    /// <summary>Requests waiting for a slot.</summary>
    public int Waiting => Volatile.Read(ref _queued);

    /// <summary>Requests ever accepted: only grows, so "has request N been accepted" needs no arithmetic on counters that move.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Requests accepted and not yet finished (waiting or running).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public bool IsDraining => _draining;

    public bool IsStopping => _stopping;

    /// <summary>How long a refused caller should wait: about one request's time, since that frees a slot.</summary>
    public TimeSpan RetryAfter => TimeSpan.FromSeconds(Math.Clamp(Volatile.Read(ref _meanRequestSeconds), 0.05, 30));

    /// <summary>Refuses, before anything is allocated, a prompt that is empty or leaves no room for a new token.</summary>
    public void CheckFits(SequenceRequest request)
    {
        if (request.PromptTokens.Count == 0 || request.PromptTokens.Count >= cache.ContextLength)
        {
            throw new ArgumentException($"The prompt has {request.PromptTokens.Count} tokens; it must have 1 to {cache.ContextLength - 1}.", nameof(request));
        }
    }

    /// <summary>Queues the sequence, or says why not (draining, or the queue is full).</summary>
    public SubmitOutcome TryEnqueue(Sequence sequence)
    {
        lock (_gate)
        {
            if (_draining || _stopping)
            {
                return SubmitOutcome.Draining;
            }

            // A request that a free slot will take at the next step does not count as waiting.
            if (Interlocked.Increment(ref _queued) > maxQueue + Volatile.Read(ref _freeSlots))
            {
                Interlocked.Decrement(ref _queued);
                return SubmitOutcome.QueueFull;
            }

            Interlocked.Increment(ref _inFlight);
            Interlocked.Increment(ref _accepted);
            _incoming.Enqueue(sequence);
            return SubmitOutcome.Accepted;
        }
    }

    /// <summary>Stops taking requests; those accepted still run.</summary>
    public void BeginDrain()
    {
        lock (_gate)
        {
            _draining = true;
        }
    }

    /// <summary>Stops taking requests for good (the scheduler is disposed).</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopping = true;
        }
    }

    /// <summary>True when draining and nothing is waiting or arriving: the loop may end.</summary>
    public bool IsDrained()
    {
        lock (_gate)
        {
            return _draining && _waiting.Count == 0 && _incoming.IsEmpty;
        }
    }

    /// <summary>Moves submissions into the wait queue, in arrival order.</summary>
    public void TakeArrivals()
    {
        while (_incoming.TryDequeue(out var arrived))
        {
            _waiting.AddLast(arrived);
        }
    }

    /// <summary>
    /// Ends (through <paramref name="finish"/>) every waiting and running sequence whose caller cancelled or
    /// whose deadline passed; a running one's slot is thereby free for this very step's admission.
    /// </summary>
    public void Reap(DateTime now, List<Sequence> running, Action<Sequence, SequenceFinishReason> finish)
    {
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.Expired(now))
            {
                _waiting.Remove(node);
                Interlocked.Decrement(ref _queued);
                finish(node.Value, SequenceFinishReason.Cancelled);
            }

            node = next;
        }

        for (var i = running.Count - 1; i >= 0; i--)
        {
            if (running[i].Expired(now))
            {
                var sequence = running[i];
                running.RemoveAt(i);
                finish(sequence, SequenceFinishReason.Cancelled);
            }
        }
    }

    // First come, first served: the oldest waiting request gets the next free slot, whoever sent it, once
    // the block pool can hold its whole prompt (after any cached prefix) and its first new token.
    public void Admit(List<Sequence> running, ISchedulerObserver? observer)
    {
        while (_waiting.First is { } node && cache.TryAllocate(out var slot))
        {
            var sequence = node.Value;
            var resumed = sequence.Preemptions > 0;

            // A fresh prompt keeps at least its last token to compute (its logits give the first token);
            // a resumed one only feeds its last generated token next, so all of its history may be cached.
            var cached = cache.AttachPrefix(slot, sequence.History, sequence.Generated == 0 ? sequence.Prefill - 1 : sequence.Prefill);
            if (!cache.TryReserve(slot, sequence.Prefill + 1))
            {
                cache.Free(slot);
                break;
            }

            _waiting.RemoveFirst();
            Interlocked.Decrement(ref _queued);
            sequence.Slot = slot;
            sequence.Cached = cached;
            running.Add(sequence);
            if (!resumed)
            {
                observer?.Admitted(Stopwatch.GetElapsedTime(sequence.SubmittedAt), sequence.Request.PromptTokens.Count);
                observer?.PrefixLookup(sequence.Request.PromptTokens.Count, cached);
            }
        }
    }

    /// <summary>A preempted sequence waits again, ahead of every later request (it was admitted before them).</summary>
    public void Requeue(Sequence sequence)
    {
        _waiting.AddFirst(sequence);
        Interlocked.Increment(ref _queued);
    }

    /// <summary>After each step: the free slots the queue bound counts.</summary>
    public void SetFreeSlots(int free) => Volatile.Write(ref _freeSlots, free);

    /// <summary>A request ended; <paramref name="ranFor"/> (null for one cancelled or failed) feeds the retry hint.</summary>
    public void Completed(TimeSpan? ranFor)
    {
        if (ranFor is { } elapsed)
        {
            // Exponential average of request time: the retry hint for refused callers.
            Volatile.Write(ref _meanRequestSeconds, (0.8 * _meanRequestSeconds) + (0.2 * elapsed.TotalSeconds));
        }

        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>At disposal: every sequence still waiting or arriving, taken out of the queue.</summary>
    public List<Sequence> TakeAll()
    {
        var all = new List<Sequence>(_waiting);
        all.AddRange(_incoming);
        _waiting.Clear();
        _incoming.Clear();
        return all;
    }
}
