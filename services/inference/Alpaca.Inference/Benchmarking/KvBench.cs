using System.Diagnostics;
using Alpaca.Inference.Model;
using Alpaca.Inference.Prompts;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Benchmarking;

/// <summary>What a KV element type costs and how many sequences fit a budget, before paging and after.</summary>
public sealed record KvCapacity(string Type, long BytesPerToken, int WholeContextSequences, int PagedSequences);

/// <summary>Time to first token of an Alpaca-template request, with its preamble prefilled (cold) or found in the prefix cache (hit).</summary>
public sealed record PrefixTtft(int PromptTokens, int PreambleTokens, int CachedTokens, double ColdMs, double HitMs);

/// <summary>
/// The KV cache part of <c>alpaca bench --kv</c>: bytes per token in flight per element type; sequences
/// that fit a byte budget when each reserves a whole context (the cache before paging, fp32) and when
/// each takes blocks for the tokens it really has (paged); and TTFT with and without a prefix hit.
/// </summary>
public static class KvBench
{
    private static readonly string[] Instructions =
    [
        "Give three tips for staying healthy.", "What are the three primary colors?", "Describe the structure of an atom.",
        "How can we reduce air pollution?", "Explain why the sky is blue.", "Name a famous painter.", "Write a haiku about rain.",
    ];

    /// <summary>Before: a whole context per sequence, fp32 (the cache before paging). After: blocks of <paramref name="blockTokens"/> for <paramref name="tokensInFlight"/> tokens.</summary>
    public static IReadOnlyList<KvCapacity> Capacity(Engine engine, long budgetBytes, int contextLength, int tokensInFlight, int blockTokens = 16)
    {
        var c = engine.Model.Config;
        var wholeContext = (long)((contextLength + 15) / 16 * 16) * KvCacheTypes.BytesPerToken(KvCacheType.F32, c.NLayers, c.NKvHeads, c.HeadDim);
        var perSequence = (tokensInFlight + blockTokens - 1) / blockTokens * blockTokens;
        return [.. new[] { KvCacheType.F32, KvCacheType.F16, KvCacheType.Q8_0 }.Select(t =>
        {
            var perToken = KvCacheTypes.BytesPerToken(t, c.NLayers, c.NKvHeads, c.HeadDim);
            return new KvCapacity(KvCacheTypes.Name(t), perToken, (int)(budgetBytes / wholeContext), (int)(budgetBytes / (perToken * perSequence)));
        })];
    }

    /// <summary>Median TTFT over <paramref name="repetitions"/> requests with different instructions, one at a time.</summary>
    public static PrefixTtft Ttft(string path, ModelOptions options, int repetitions)
    {
        using var cold = Engine.Load(path, options with { MaxSequences = 1, PrefixCaching = false });
        using var warm = Engine.Load(path, options with { MaxSequences = 1, PrefixCaching = true });
        var observer = new HitRecorder();
        using var coldScheduler = new ContinuousBatchScheduler(cold);
        using var warmScheduler = new ContinuousBatchScheduler(warm, observer: observer);
        var tokenizer = warm.Tokenizer;
        IReadOnlyList<int> Prompt(int i) => tokenizer.Encode(PromptTemplates.Apply("alpaca", Instructions[i % Instructions.Length]), tokenizer.AddBosByDefault);

        // Warm-up of both (and the preamble into the warm engine's cache).
        FirstTokenMs(coldScheduler, Prompt(repetitions + 1));
        FirstTokenMs(warmScheduler, Prompt(repetitions + 1));
        var coldMs = new List<double>();
        var hitMs = new List<double>();
        for (var r = 0; r < repetitions; r++)
        {
            coldMs.Add(FirstTokenMs(coldScheduler, Prompt(r)));
            hitMs.Add(FirstTokenMs(warmScheduler, Prompt(r)));
        }

        var preamble = tokenizer.Encode(PromptTemplates.Apply("alpaca", string.Empty), tokenizer.AddBosByDefault).Count;
        return new PrefixTtft(Prompt(0).Count, preamble, observer.LastCached, Median(coldMs), Median(hitMs));
    }

    private static double FirstTokenMs(ContinuousBatchScheduler scheduler, IReadOnlyList<int> prompt)
    {
        var request = new SequenceRequest { PromptTokens = prompt, MaxTokens = 1, IgnoreEos = true, Sampling = SamplingParams.Greedy };
        var started = Stopwatch.GetTimestamp();
        if (scheduler.TrySubmit(request, CancellationToken.None, out var handle) != SubmitOutcome.Accepted)
        {
            throw new InvalidOperationException("The benchmark's request was refused.");
        }

        var first = handle!.Events.ReadAsync().AsTask().GetAwaiter().GetResult();
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        handle.ReadToEndAsync().GetAwaiter().GetResult();
        return first is SequenceDelta ? ms : throw new InvalidOperationException("The benchmark's request produced no token.");
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    private sealed class HitRecorder : ISchedulerObserver
    {
        public int LastCached { get; private set; }

        public void PrefixLookup(int promptTokens, int cachedTokens) => LastCached = cachedTokens;

        public void Admitted(TimeSpan queueTime, int promptTokens)
        {
        }

        public void FirstToken(TimeSpan timeToFirstToken)
        {
        }

        public void NextToken(TimeSpan interTokenLatency)
        {
        }

        public void Finished(SequenceFinishReason reason, TimeSpan endToEnd, int completionTokens)
        {
        }

        public void Rejected(SubmitOutcome outcome)
        {
        }

        public void Step(int running, int waiting, double kvCacheUsage, int batchTokens, TimeSpan forward)
        {
        }
    }
}
