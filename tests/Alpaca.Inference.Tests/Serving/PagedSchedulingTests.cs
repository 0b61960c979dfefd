using Alpaca.Inference.Model;
using Alpaca.Inference.Prompts;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Serving;

/// <summary>
/// The scheduler over a paged KV cache on a real tiny model: greedy output must not depend on paging, on a
/// prefix-cache hit or on being preempted and recomputed; and a byte budget holds more sequences.
/// </summary>
public sealed class PagedSchedulingTests
{
    private sealed class Lookups : ISchedulerObserver
    {
        public List<(int Prompt, int Cached)> Seen { get; } = [];

        public int Preemptions { get; private set; }

        public void PrefixLookup(int promptTokens, int cachedTokens)
        {
            lock (Seen)
            {
                Seen.Add((promptTokens, cachedTokens));
            }
        }

        public void Preempted(int cachedTokens) => Preemptions++;

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

    private static readonly string[] Instructions = ["Name three colours.", "Say hello.", "Count to five.", "What is a llama?", "Tell me a joke.", "Spell cat.", "Add two and two.", "Why is the sky blue?"];

    private static Engine Load(ModelOptions options) => Engine.Load(TinyModels.Path(GgmlType.Q8_0), options with { Threads = 2, ContextLength = 256 });

    // An Alpaca-template prompt (about 140 tokens with the tiny vocabulary), or the bare instruction.
    private static SequenceRequest Request(Engine engine, string instruction, int maxTokens, bool template = true) => new()
    {
        PromptTokens = engine.Tokenizer.Encode(template ? PromptTemplates.Apply("alpaca", instruction) : instruction, engine.Tokenizer.AddBosByDefault),
        MaxTokens = maxTokens,
        IgnoreEos = true,
        Sampling = SamplingParams.Greedy,
    };

    // All requests at once; the token ids of each, in request order.
    private static async Task<int[][]> RunAsync(ContinuousBatchScheduler scheduler, IEnumerable<SequenceRequest> requests)
    {
        var handles = requests.Select(r =>
        {
            Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(r, CancellationToken.None, out var h));
            return h!;
        }).ToList();
        var done = await Task.WhenAll(handles.Select(h => h.ReadToEndAsync()));
        return done.Select(c => c.TokenIds.ToArray()).ToArray();
    }

    [Fact]
    public async Task Greedy_output_is_the_same_with_paging_on_or_off()
    {
        using var paged = Load(new ModelOptions { MaxSequences = 4 });
        using var contiguous = Load(new ModelOptions { MaxSequences = 4, KvBlockTokens = 0 });
        using var a = new ContinuousBatchScheduler(paged);
        using var b = new ContinuousBatchScheduler(contiguous);
        var expected = await RunAsync(b, Instructions[..4].Select(i => Request(contiguous, i, 24)));
        var actual = await RunAsync(a, Instructions[..4].Select(i => Request(paged, i, 24)));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task A_prefix_cache_hit_skips_the_shared_preamble_and_changes_no_token()
    {
        using var cold = Load(new ModelOptions { MaxSequences = 2, PrefixCaching = false });
        using var warm = Load(new ModelOptions { MaxSequences = 2 });
        var lookups = new Lookups();
        using var coldScheduler = new ContinuousBatchScheduler(cold);
        using var warmScheduler = new ContinuousBatchScheduler(warm, observer: lookups);

        var expected = await RunAsync(coldScheduler, [Request(cold, Instructions[1], 20)]);
        await RunAsync(warmScheduler, [Request(warm, Instructions[0], 20)]); // fills the cache with the preamble
        var actual = await RunAsync(warmScheduler, [Request(warm, Instructions[1], 20)]);
        Assert.Equal(expected, actual);

        // The second request found the preamble's whole blocks; the first found nothing.
        var preamble = PromptTemplates.Apply("alpaca", string.Empty);
        var shared = warm.Tokenizer.Encode(preamble, warm.Tokenizer.AddBosByDefault).Count - 2; // the last tokens may merge with the instruction
        Assert.Equal(0, lookups.Seen[0].Cached);
        // Whole blocks and, copied, the start of the block in which the instruction begins: every token the two prompts share.
        var common = Request(warm, Instructions[0], 20).PromptTokens.Zip(Request(warm, Instructions[1], 20).PromptTokens).TakeWhile(p => p.First == p.Second).Count();
        Assert.True(common >= shared / 16 * 16, $"{common} tokens in common (preamble {shared})");
        Assert.Equal(common, lookups.Seen[1].Cached);

        // The same prompt again reuses everything but its last token (whose logits give the first new token).
        var again = await RunAsync(warmScheduler, [Request(warm, Instructions[1], 20)]);
        Assert.Equal(expected, again);
        Assert.Equal(lookups.Seen[2].Prompt - 1, lookups.Seen[2].Cached);
    }

    [Fact]
    public async Task Sequences_preempted_by_a_tiny_pool_are_recomputed_to_the_same_output()
    {
        using var roomy = Load(new ModelOptions { MaxSequences = 6 });
        using var tiny = Load(new ModelOptions { MaxSequences = 6, KvCacheTokens = 128, PrefixCaching = false }); // 16 blocks (one context) for six sequences
        var observer = new Lookups();
        using var a = new ContinuousBatchScheduler(roomy);
        using var b = new ContinuousBatchScheduler(tiny, observer: observer);
        var expected = await RunAsync(a, Instructions[..6].Select(i => Request(roomy, i, 40, template: false)));
        var actual = await RunAsync(b, Instructions[..6].Select(i => Request(tiny, i, 40, template: false)));
        Assert.True(b.Preemptions > 0, "the pool must run out mid-decode");
        Assert.Equal(b.Preemptions, observer.Preemptions);
        Assert.Equal(expected, actual);
        Assert.Equal(tiny.Model.Cache.Blocks, tiny.Model.Cache.FreeBlocks);
    }

    [Fact]
    public async Task A_byte_budget_holds_more_sequences_paged_in_fp16_than_whole_contexts_in_fp32()
    {
        // Before: every slot reserved a whole context in fp32, so the budget is two slots.
        using var before = Load(new ModelOptions { MaxSequences = 2, KvBlockTokens = 0, KvCacheType = KvCacheType.F32 });
        var budget = ((Transformer)before.Model).KvStorage.Bytes;
        var perToken = KvCacheTypes.BytesPerToken(KvCacheType.F16, 2, 2, 16);
        using var after = Load(new ModelOptions { MaxSequences = 8, KvCacheTokens = (int)(budget / perToken), PrefixCaching = false });
        Assert.True(((Transformer)after.Model).KvStorage.Bytes <= budget);

        using var scheduler = new ContinuousBatchScheduler(after);
        var outputs = await RunAsync(scheduler, Instructions.Select(i => Request(after, i, 16, template: false)));
        Assert.All(outputs, o => Assert.Equal(16, o.Length));
        Assert.Equal(8, scheduler.PeakRunning);
        Assert.Equal(0, scheduler.Preemptions);
        Assert.Equal(2, before.Model.Cache.Slots);
    }
}
