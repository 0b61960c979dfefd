using Alpaca.Inference.Backends;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Serving;

/// <summary>The scheduler's admission and queue policy on its own, with a real KV cache and tokenizer (no loop thread).</summary>
public sealed class AdmissionQueueTests : IDisposable
{
    private readonly Engine _engine = Engine.Load(TinyModels.Path(GgmlType.Q8_0));
    private readonly SlotTable _cache = new(slots: 2, contextLength: 32);

    private Sequence NewSequence(CancellationToken cancellation = default, DateTime? deadline = null) =>
        new(new SequenceRequest { PromptTokens = [1, 2, 3], Deadline = deadline }, seed: 1, _engine.Model.VocabSize, _engine.Tokenizer, cancellation);

    [Fact]
    public void The_bound_counts_only_requests_no_free_slot_will_take_and_slots_go_first_come_first_served()
    {
        var queue = new AdmissionQueue(maxQueue: 1, _cache);
        var sequences = Enumerable.Range(0, 3).Select(_ => NewSequence()).ToList();
        Assert.All(sequences, s => Assert.Equal(SubmitOutcome.Accepted, queue.TryEnqueue(s))); // 2 free slots + 1 waiting
        Assert.Equal(SubmitOutcome.QueueFull, queue.TryEnqueue(NewSequence()));

        var running = new List<Sequence>();
        queue.TakeArrivals();
        queue.Admit(running, observer: null);
        Assert.Equal(sequences[..2], running);
        Assert.Equal(1, queue.Waiting);
        Assert.Equal(3, queue.InFlight);

        // With both slots taken the one waiting request fills the queue.
        queue.SetFreeSlots(0);
        Assert.Equal(SubmitOutcome.QueueFull, queue.TryEnqueue(NewSequence()));
    }

    [Fact]
    public void Cancelled_and_expired_requests_end_whether_waiting_or_running()
    {
        var queue = new AdmissionQueue(maxQueue: 4, _cache);
        using var cancel = new CancellationTokenSource();
        var live = NewSequence();
        var cancelled = NewSequence(cancel.Token);
        var expired = NewSequence(deadline: DateTime.UtcNow.AddSeconds(-1));
        var waitingExpired = NewSequence(deadline: DateTime.UtcNow.AddSeconds(-1));
        foreach (var s in new[] { live, cancelled, expired, waitingExpired })
        {
            Assert.Equal(SubmitOutcome.Accepted, queue.TryEnqueue(s));
        }

        var running = new List<Sequence>();
        queue.TakeArrivals();
        queue.Admit(running, observer: null);
        Assert.Equal([live, cancelled], running); // two slots; the expired ones wait
        cancel.Cancel();

        var ended = new List<(Sequence, SequenceFinishReason)>();
        queue.Reap(DateTime.UtcNow, running, (s, r) => ended.Add((s, r)));
        Assert.Equal([live], running);
        Assert.Equal(0, queue.Waiting);
        Assert.Equal(3, ended.Count);
        Assert.All(new[] { expired, waitingExpired, cancelled }, s => Assert.Contains(ended, e => ReferenceEquals(e.Item1, s)));
        Assert.All(ended, e => Assert.Equal(SequenceFinishReason.Cancelled, e.Item2));
    }

    [Fact]
    public void Draining_refuses_new_requests_and_is_drained_once_none_waits()
    {
        var queue = new AdmissionQueue(maxQueue: 4, _cache);
        Assert.Equal(SubmitOutcome.Accepted, queue.TryEnqueue(NewSequence()));
        queue.BeginDrain();
        Assert.Equal(SubmitOutcome.Draining, queue.TryEnqueue(NewSequence()));
        Assert.False(queue.IsDrained());
        queue.TakeArrivals();
        queue.Admit([], observer: null);
        Assert.True(queue.IsDrained());
    }

    [Fact]
    public void A_prompt_must_leave_room_for_one_new_token_and_the_retry_hint_follows_request_times()
    {
        var queue = new AdmissionQueue(maxQueue: 4, _cache);
        Assert.Throws<ArgumentException>(() => queue.CheckFits(new SequenceRequest { PromptTokens = [] }));
        Assert.Throws<ArgumentException>(() => queue.CheckFits(new SequenceRequest { PromptTokens = new int[32] }));
        queue.CheckFits(new SequenceRequest { PromptTokens = new int[31] });

        Assert.Equal(TimeSpan.FromSeconds(1), queue.RetryAfter);
        queue.Completed(ranFor: null); // cancelled: no effect on the hint
        Assert.Equal(TimeSpan.FromSeconds(1), queue.RetryAfter);
        queue.Completed(TimeSpan.FromSeconds(6));
        Assert.Equal(TimeSpan.FromSeconds(2), queue.RetryAfter); // 0.8·1 + 0.2·6
    }

    public void Dispose()
    {
        _engine.Dispose();
    }
}
