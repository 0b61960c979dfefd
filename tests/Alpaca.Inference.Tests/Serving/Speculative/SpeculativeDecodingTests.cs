using Alpaca.Inference.Model;
using Alpaca.Inference.Prompts;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Inference.Serving.Speculative;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Serving.Speculative;

/// <summary>
/// Speculative decoding on real tiny GGUF files: greedy output with a draft is token for token the output
/// without one — for a draft that always agrees (the target itself) and for a different, smaller random
/// draft that rarely does — alone and batched, with stops, with penalties, at the context's end; sampled
/// requests do not speculate; an incompatible draft is refused naming the difference.
/// </summary>
public sealed class SpeculativeDecodingTests
{
    private static readonly TempDir Dir = new("alpaca-speculative-models");
    private static readonly Lazy<string> SmallDraft = new(() => Write("draft-small", TinyModelFactory.Tiny(dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64), seed: 5));

    private static readonly string[] Instructions = ["Name three colours.", "Say hello.", "Count to five.", "What is a llama?", "Tell me a joke.", "Why is the sky blue?"];

    private static string Write(string name, LlamaConfig config, int seed, LlamaVocabulary? vocabulary = null)
    {
        var path = Dir.File(name + ".gguf");
        TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = config, RandomNorms = true, Seed = seed, InitStd = 0.08f, Vocabulary = vocabulary }, GgmlType.Q8_0);
        return path;
    }

    private static Engine Load(string path, int sequences = 4, int context = 256) =>
        Engine.Load(path, new ModelOptions { Threads = 2, MaxSequences = sequences, ContextLength = context });

    private static Engine Target(int sequences = 4, int context = 256) => Load(TinyModels.Path(GgmlType.Q8_0), sequences, context);

    private static SequenceRequest Request(Engine engine, string instruction, int maxTokens, SamplingParams? sampling = null, bool template = true) => new()
    {
        PromptTokens = engine.Tokenizer.Encode(template ? PromptTemplates.Apply("alpaca", instruction) : instruction, engine.Tokenizer.AddBosByDefault),
        MaxTokens = maxTokens,
        IgnoreEos = true,
        Sampling = sampling ?? SamplingParams.Greedy,
    };

    private static async Task<SequenceCompletion[]> RunAsync(ContinuousBatchScheduler scheduler, IEnumerable<SequenceRequest> requests)
    {
        var handles = requests.Select(r =>
        {
            Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(r, CancellationToken.None, out var h));
            return h!;
        }).ToList();
        return await Task.WhenAll(handles.Select(h => h.ReadToEndAsync()));
    }

    private static async Task<(SequenceCompletion[] Plain, SequenceCompletion[] Speculative, ContinuousBatchScheduler Scheduler)> CompareAsync(
        Engine target, Engine draft, Func<Engine, IEnumerable<SequenceRequest>> requests, int tokens = 4, bool oneAtATime = false)
    {
        using var plain = new ContinuousBatchScheduler(target);
        var speculative = new ContinuousBatchScheduler(target, new SchedulerOptions { Speculation = new SpeculationOptions { Draft = draft, Tokens = tokens } });
        var expected = new List<SequenceCompletion>();
        var actual = new List<SequenceCompletion>();
        if (oneAtATime)
        {
            foreach (var r in requests(target))
            {
                expected.AddRange(await RunAsync(plain, [r]));
                actual.AddRange(await RunAsync(speculative, [r]));
            }
        }
        else
        {
            expected.AddRange(await RunAsync(plain, requests(target)));
            actual.AddRange(await RunAsync(speculative, requests(target)));
        }

        return ([.. expected], [.. actual], speculative);
    }

    private static void AssertSame(SequenceCompletion[] expected, SequenceCompletion[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].TokenIds, actual[i].TokenIds);
            Assert.Equal(expected[i].Text, actual[i].Text);
            Assert.Equal(expected[i].Finished.Reason, actual[i].Finished.Reason);
        }
    }

    [Fact]
    public async Task A_draft_that_is_the_target_itself_is_accepted_almost_always_and_changes_no_token()
    {
        using var target = Target();
        using var draft = Target();
        var (expected, actual, scheduler) = await CompareAsync(target, draft, t => Instructions[..4].Select(i => Request(t, i, 40)), oneAtATime: true);
        using (scheduler)
        {
            AssertSame(expected, actual);
            Assert.True(scheduler.DraftTokens > 0);
            var rate = (double)scheduler.AcceptedDraftTokens / scheduler.DraftTokens;
            Assert.True(rate > 0.9, $"acceptance {rate:P1} of {scheduler.DraftTokens} draft tokens");

            // Each step yields up to k+1 tokens: far fewer steps than tokens.
            Assert.True(scheduler.Steps < 4 * 40 / 2, $"{scheduler.Steps} steps for 160 tokens");
        }
    }

    [Fact]
    public async Task A_different_smaller_random_draft_is_mostly_rejected_and_still_changes_no_token()
    {
        using var target = Target();
        using var draft = Load(SmallDraft.Value);
        var (expected, actual, scheduler) = await CompareAsync(target, draft, t => Instructions[..4].Select(i => Request(t, i, 40)), oneAtATime: true);
        using (scheduler)
        {
            AssertSame(expected, actual);
            Assert.True(scheduler.DraftTokens > 0);
            Assert.True(scheduler.AcceptedDraftTokens < scheduler.DraftTokens / 2, $"{scheduler.AcceptedDraftTokens} of {scheduler.DraftTokens} accepted");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public async Task Batched_sequences_with_prefix_hits_give_the_same_tokens_for_any_k(int k)
    {
        using var target = Target(sequences: 6);
        using var draft = Load(SmallDraft.Value, sequences: 6);
        using var self = Target(sequences: 6);
        var (expected, actual, a) = await CompareAsync(target, draft, t => Instructions.Select(i => Request(t, i, 30)), k);
        using (a)
        {
            AssertSame(expected, actual);
        }

        var (expectedSelf, actualSelf, b) = await CompareAsync(target, self, t => Instructions.Select(i => Request(t, i, 30)), k);
        using (b)
        {
            AssertSame(expectedSelf, actualSelf);
            Assert.True(b.AcceptedDraftTokens > 0);
        }

        // Every slot and block came back (cached full blocks count as free).
        Assert.Equal(target.Model.Cache.Blocks, target.Model.Cache.FreeBlocks);
        Assert.Equal(self.Model.Cache.Blocks, self.Model.Cache.FreeBlocks);
    }

    [Fact]
    public async Task Stops_penalties_log_probabilities_and_the_context_end_behave_as_without_a_draft()
    {
        using var target = Target(context: 160);
        using var draft = Target(context: 160);

        // A stop token id and a stop string taken from the plain output, so they end the sequence inside an accepted run.
        using var probe = new ContinuousBatchScheduler(target);
        var free = (await RunAsync(probe, [Request(target, Instructions[2], 30)]))[0];
        var stopId = free.Tokens[9].Id;
        var stopText = free.Text.Substring(free.Text.Length / 2, 3);
        var penalties = SamplingParams.Greedy with { RepetitionPenalty = 1.3f, FrequencyPenalty = 0.5f, PresencePenalty = 0.3f };

        var (expected, actual, scheduler) = await CompareAsync(target, draft, t =>
        [
            Request(t, Instructions[2], 30) with { StopTokenIds = [stopId] },
            Request(t, Instructions[2], 30) with { Stop = [stopText] },
            Request(t, Instructions[2], 30, penalties) with { LogProbs = true },
            Request(t, Instructions[2], 30) with { MinTokens = 12, StopTokenIds = [stopId] },
            Request(t, Instructions[3], 200), // runs into the 160-token context
        ]);
        using (scheduler)
        {
            AssertSame(expected, actual);
            Assert.Equal(SequenceFinishReason.EndOfSequence, actual[0].Finished.Reason);
            Assert.Equal(SequenceFinishReason.StopSequence, actual[1].Finished.Reason);
            Assert.Equal(SequenceFinishReason.Length, actual[4].Finished.Reason);
            Assert.NotNull(actual[2].Tokens[0].LogProb);
            Assert.Equal(expected[2].Tokens.Select(t => t.LogProb!.LogProb), actual[2].Tokens.Select(t => t.LogProb!.LogProb));
        }
    }

    [Fact]
    public async Task Sequences_preempted_by_a_tiny_pool_while_speculating_give_the_same_tokens()
    {
        using var roomy = Target(sequences: 4);
        using var tiny = Engine.Load(TinyModels.Path(GgmlType.Q8_0), new ModelOptions { Threads = 2, MaxSequences = 4, ContextLength = 256, KvCacheTokens = 256, PrefixCaching = false });
        using var draft = Target(sequences: 4);
        using var plain = new ContinuousBatchScheduler(roomy);
        using var speculative = new ContinuousBatchScheduler(tiny, new SchedulerOptions { Speculation = new SpeculationOptions { Draft = draft, Tokens = 4 } });
        var expected = await RunAsync(plain, Instructions[..4].Select(i => Request(roomy, i, 60, template: false)));
        var actual = await RunAsync(speculative, Instructions[..4].Select(i => Request(tiny, i, 60, template: false)));
        Assert.True(speculative.Preemptions > 0, "the pool must run out mid-decode");
        Assert.True(speculative.AcceptedDraftTokens > 0);
        AssertSame(expected, actual);
        Assert.Equal(tiny.Model.Cache.Blocks, tiny.Model.Cache.FreeBlocks);
        Assert.Equal(draft.Model.Cache.Blocks, draft.Model.Cache.FreeBlocks);
    }

    [Fact]
    public async Task Sampled_requests_do_not_speculate()
    {
        using var target = Target();
        using var draft = Target();
        var sampled = new SamplingParams { Temperature = 0.8f, Seed = 42 };
        var (expected, actual, scheduler) = await CompareAsync(target, draft, t => Instructions[..2].Select(i => Request(t, i, 20, sampled)));
        using (scheduler)
        {
            AssertSame(expected, actual); // the same seed gives the same tokens: nothing was drawn differently
            Assert.Equal(0, scheduler.DraftTokens);
        }
    }

    [Fact]
    public void An_incompatible_draft_is_refused_naming_what_differs()
    {
        using var target = Target();
        using var smaller = Load(Write("draft-vocab-320", TinyModelFactory.Tiny(dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64, vocab: 320), seed: 5));
        var size = Assert.Throws<ArgumentException>(() => new ContinuousBatchScheduler(target, new SchedulerOptions { Speculation = new SpeculationOptions { Draft = smaller } }));
        Assert.Contains("the draft has 320 tokens (320 logits) and the target 384 (384 logits)", size.Message, StringComparison.Ordinal);

        var vocab = LlamaVocabulary.CreateByteFallback(384);
        var tokens = (string[])vocab.Tokens.Clone();
        var id = Array.FindIndex(tokens, t => t.Length > 1 && !t.StartsWith('<'));
        tokens[id] = "zz-other";
        using var renamed = Load(Write("draft-renamed", TinyModelFactory.Tiny(dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64), seed: 5, vocab with { Tokens = tokens }));
        var text = Assert.Throws<ArgumentException>(() => DraftCompatibility.Check(target, renamed));
        Assert.Contains($"token {id} is 'zz-other' in the draft and '{vocab.Tokens[id]}' in the target", text.Message, StringComparison.Ordinal);

        var k = Assert.Throws<ArgumentException>(() => new ContinuousBatchScheduler(target, new SchedulerOptions { Speculation = new SpeculationOptions { Draft = target, Tokens = 0 } }));
        Assert.Contains("Speculation.Tokens = 0 is out of range [1, 16]", k.Message, StringComparison.Ordinal);
    }
}
