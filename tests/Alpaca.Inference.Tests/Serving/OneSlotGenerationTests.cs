using System.Text;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Serving;

/// <summary>
/// The decode loop as <c>alpaca generate</c> runs it — a scheduler with one KV slot — on a real (tiny,
/// random-weight) GGUF model with its own tokenizer.
/// </summary>
public class OneSlotGenerationTests
{
    private static Engine Load() => Engine.Load(TinyModels.Path(GgmlType.Q8_0));

    private static async Task<SequenceCompletion> RunAsync(Engine engine, SequenceRequest request, Action<SequenceDelta>? onDelta = null)
    {
        using var scheduler = new ContinuousBatchScheduler(engine);
        Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(request, CancellationToken.None, out var handle));
        return await handle!.ReadToEndAsync(onDelta);
    }

    private static SequenceRequest Request(Engine engine, string prompt, int maxTokens, SamplingParams? sampling = null) => new()
    {
        PromptTokens = engine.Tokenizer.Encode(prompt, engine.Tokenizer.AddBosByDefault),
        MaxTokens = maxTokens,
        IgnoreEos = true,
        Sampling = sampling ?? SamplingParams.Greedy,
    };

    [Fact]
    public async Task Greedy_generation_is_deterministic_and_streams_the_decoded_text()
    {
        using var engine = Load();
        var request = Request(engine, "Once upon a time", 20);
        var streamed = new StringBuilder();
        var first = await RunAsync(engine, request, d => streamed.Append(d.Text));
        var second = await RunAsync(engine, request);
        Assert.Equal(SequenceFinishReason.Length, first.Finished.Reason);
        Assert.Equal(20, first.Finished.CompletionTokens);
        Assert.Equal(first.TokenIds, second.TokenIds);
        Assert.Equal(first.Text, streamed.ToString());
        Assert.Equal(engine.Tokenizer.Decode(first.TokenIds.ToArray()), first.Text);
        Assert.Equal(engine.Tokenizer.Encode("Once upon a time", true).Count, first.Finished.PromptTokens);
    }

    [Fact]
    public async Task A_seed_makes_sampling_reproducible_and_is_reported()
    {
        using var engine = Load();
        SequenceRequest Seeded(ulong seed) => Request(engine, "Tell me", 16, new SamplingParams { Temperature = 1.2f, TopP = 0.95f, TopK = 50, Seed = seed });
        var five = await RunAsync(engine, Seeded(5));
        Assert.Equal(5UL, five.Finished.Seed);
        Assert.Equal(five.TokenIds, (await RunAsync(engine, Seeded(5))).TokenIds);
        Assert.NotEqual(five.TokenIds, (await RunAsync(engine, Seeded(6))).TokenIds);
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_completion_before_it()
    {
        using var engine = Load();
        var free = await RunAsync(engine, Request(engine, "abc", 30));
        Assert.True(free.Text.Length >= 4, $"need some text to pick a stop sequence from: '{free.Text}'");
        var stop = free.Text.Substring(free.Text.Length / 2, 2);
        var cut = free.Text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = await RunAsync(engine, Request(engine, "abc", 30) with { Stop = [stop] });
        Assert.Equal(SequenceFinishReason.StopSequence, stopped.Finished.Reason);
        Assert.Equal(stop, stopped.Finished.StopSequence);
        Assert.Equal(free.Text[..cut], stopped.Text);
    }

    [Fact]
    public async Task Log_probabilities_come_with_each_token()
    {
        using var engine = Load();
        var result = await RunAsync(engine, Request(engine, "x", 5, SamplingParams.Greedy with { TopLogProbs = 3 }) with { LogProbs = true });
        Assert.Equal(5, result.Tokens.Count);
        foreach (var token in result.Tokens)
        {
            var lp = token.LogProb!;
            Assert.Equal(token.Id, lp.Token);
            Assert.Equal(lp.Token, lp.Top[0].Token); // greedy takes the most likely token
            Assert.Equal(lp.LogProb, lp.Top[0].LogProb, 5);
            Assert.True(lp.LogProb <= 0);
        }
    }

    [Fact]
    public async Task Generation_stops_at_the_context_length_and_a_prompt_that_fills_it_is_refused()
    {
        using var engine = Engine.Load(TinyModels.Path(GgmlType.F16), new Alpaca.Inference.Model.ModelOptions { ContextLength = 24 });
        var result = await RunAsync(engine, Request(engine, "Once upon a time", 100));
        Assert.Equal(SequenceFinishReason.Length, result.Finished.Reason);
        Assert.Equal(24, result.Finished.PromptTokens + result.Finished.CompletionTokens);

        using var scheduler = new ContinuousBatchScheduler(engine);
        Assert.Throws<ArgumentException>(() => scheduler.TrySubmit(Request(engine, new string('a', 200), 1), CancellationToken.None, out _));
    }
}
