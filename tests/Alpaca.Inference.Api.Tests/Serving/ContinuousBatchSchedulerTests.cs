using System.Collections.Concurrent;
using Alpaca.Inference.Model;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Api.Tests.Serving;

/// <summary>The scheduler on a real engine, observed step by step (no server): what each forward pass holds.</summary>
public sealed class ContinuousBatchSchedulerTests
{
    private sealed class Recorder : ISchedulerObserver
    {
        public ConcurrentQueue<(string Event, int Running, int BatchTokens)> Events { get; } = new();

        public void Admitted(TimeSpan queueTime, int promptTokens) => Events.Enqueue(("admitted", 0, 0));

        public void FirstToken(TimeSpan timeToFirstToken) => Events.Enqueue(("first", 0, 0));

        public void NextToken(TimeSpan interTokenLatency) => Events.Enqueue(("next", 0, 0));

        public void Finished(SequenceFinishReason reason, TimeSpan endToEnd, int completionTokens) => Events.Enqueue(("finished", 0, 0));

        public void Rejected(SubmitOutcome outcome) => Events.Enqueue(("rejected", 0, 0));

        public void Step(int running, int waiting, double kvCacheUsage, int batchTokens, TimeSpan forward)
        {
            if (batchTokens > 0)
            {
                Events.Enqueue(("step", running, batchTokens));
            }
        }
    }

    [Fact]
    public async Task A_long_prompt_is_prefilled_in_chunks_while_the_running_stream_gets_a_token_every_step()
    {
        using var engine = Engine.Load(TestModels.Long(), new ModelOptions { MaxSequences = 2, Threads = 2 });
        var recorder = new Recorder();
        using var scheduler = new ContinuousBatchScheduler(engine, new SchedulerOptions { PrefillChunkTokens = 16 }, recorder);
        using var cts = new CancellationTokenSource();
        var tokenizer = engine.Tokenizer;
        Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(
            new SequenceRequest { PromptTokens = tokenizer.Encode("Once upon a time", true), MaxTokens = 1900, IgnoreEos = true, Sampling = SamplingParams.Greedy },
            cts.Token,
            out var running));
        Assert.True(await running!.Events.WaitToReadAsync());

        var longPrompt = tokenizer.Encode(string.Concat(Enumerable.Repeat("lorem ipsum ", 100)), true);
        Assert.True(longPrompt.Count > 400, $"{longPrompt.Count} prompt tokens");
        var mark = recorder.Events.Count;
        Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(new SequenceRequest { PromptTokens = longPrompt, MaxTokens = 1, Sampling = SamplingParams.Greedy }, CancellationToken.None, out var prefill));
        await foreach (var _ in prefill!.Events.ReadAllAsync())
        {
        }

        await cts.CancelAsync();
        var events = recorder.Events.ToArray()[mark..];
        var firstOfLong = Array.FindIndex(events, e => e.Event == "first");
        Assert.True(firstOfLong > 0);
        var during = events[..firstOfLong];
        var steps = during.Where(e => e.Event == "step").ToList();

        // Every step of the long prompt's prefill carried at most one chunk plus the running stream's token…
        Assert.All(steps, s => Assert.True(s.BatchTokens <= 16 + 2, $"a step of {s.BatchTokens} tokens"));
        var prefillSteps = steps.Count(s => s.Running == 2);
        Assert.True(prefillSteps >= (longPrompt.Count / 16) - 1, $"{prefillSteps} steps for {longPrompt.Count} prompt tokens");

        // …and the running stream got a token from each of them.
        var streamed = during.Count(e => e.Event == "next");
        Assert.True(streamed >= prefillSteps - 1, $"the running stream got {streamed} tokens during {prefillSteps} prefill steps");
    }

    [Fact]
    public void Requests_that_cannot_fit_the_context_are_refused_before_they_reach_the_cache()
    {
        using var engine = Engine.Load(TestModels.Tiny(), new ModelOptions { MaxSequences = 1, Threads = 1 });
        using var scheduler = new ContinuousBatchScheduler(engine);
        Assert.Throws<ArgumentException>(() => scheduler.TrySubmit(new SequenceRequest { PromptTokens = [] }, CancellationToken.None, out _));
        Assert.Throws<ArgumentException>(() => scheduler.TrySubmit(new SequenceRequest { PromptTokens = Enumerable.Repeat(5, 512).ToArray() }, CancellationToken.None, out _));
    }

    [Fact]
    public async Task Draining_finishes_accepted_requests_and_refuses_new_ones()
    {
        using var engine = Engine.Load(TestModels.Tiny(), new ModelOptions { MaxSequences = 1, Threads = 1 });
        using var scheduler = new ContinuousBatchScheduler(engine);
        var prompt = engine.Tokenizer.Encode("abc", true);
        var handles = Enumerable.Range(0, 3).Select(_ =>
        {
            Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(new SequenceRequest { PromptTokens = prompt, MaxTokens = 30, IgnoreEos = true, Sampling = SamplingParams.Greedy }, CancellationToken.None, out var h));
            return h!;
        }).ToList();
        scheduler.BeginDrain();
        Assert.Equal(SubmitOutcome.Draining, scheduler.TrySubmit(new SequenceRequest { PromptTokens = prompt }, CancellationToken.None, out _));
        foreach (var handle in handles)
        {
            SequenceFinished? last = null;
            await foreach (var e in handle.Events.ReadAllAsync())
            {
                last = e as SequenceFinished ?? last;
            }

            Assert.Equal(SequenceFinishReason.Length, last!.Reason);
            Assert.Equal(30, last.CompletionTokens);
        }

        await scheduler.Drained.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
