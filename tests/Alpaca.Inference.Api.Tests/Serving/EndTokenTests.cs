using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Api.Tests.Serving;

/// <summary>A model's end-of-turn tokens (<see cref="SequenceRequest.EndTokenIds"/>) end a sequence exactly as EOS does.</summary>
public sealed class EndTokenTests
{
    [Fact]
    public async Task An_end_token_ends_like_eos_is_held_back_by_min_tokens_and_ignored_with_ignore_eos()
    {
        using var engine = Engine.Load(TestModels.Tiny());
        var prompt = engine.Tokenizer.Encode("Once upon a time", engine.Tokenizer.AddBosByDefault);
        var free = await DirectGeneration.RunAsync(engine, new SequenceRequest { PromptTokens = prompt, MaxTokens = 6, IgnoreEos = true, Sampling = SamplingParams.Greedy });
        var first = free.Tokens[0].Id;
        Assert.NotEqual(engine.Tokenizer.EosId, first);

        // The greedy first token declared an end token: the sequence ends at once, its text withheld as EOS's is.
        var ended = await DirectGeneration.RunAsync(engine, new SequenceRequest { PromptTokens = prompt, MaxTokens = 6, Sampling = SamplingParams.Greedy, EndTokenIds = [first] });
        Assert.Equal(SequenceFinishReason.EndOfSequence, ended.Finished.Reason);
        Assert.Single(ended.Tokens);
        Assert.Equal("", ended.Text);

        // min_tokens: it cannot be drawn first.
        var held = await DirectGeneration.RunAsync(engine, new SequenceRequest { PromptTokens = prompt, MaxTokens = 6, MinTokens = 1, Sampling = SamplingParams.Greedy, EndTokenIds = [first] });
        Assert.NotEqual(first, held.Tokens[0].Id);

        // ignore_eos: generation goes on through it.
        var ignored = await DirectGeneration.RunAsync(engine, new SequenceRequest { PromptTokens = prompt, MaxTokens = 6, IgnoreEos = true, Sampling = SamplingParams.Greedy, EndTokenIds = [first] });
        Assert.Equal(SequenceFinishReason.Length, ignored.Finished.Reason);
        Assert.Equal(free.Text, ignored.Text);
    }
}
