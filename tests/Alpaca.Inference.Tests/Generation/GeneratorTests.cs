using System.Text;
using Alpaca.Inference.Generation;
using Alpaca.Inference.Sampling;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Tests.Generation;

/// <summary>The generation loop on a real (tiny, random-weight) GGUF model with its own tokenizer.</summary>
public class GeneratorTests
{
    private static Engine Load() => Engine.Load(TinyModels.Path(GgmlType.Q8_0));

    [Fact]
    public void Greedy_generation_is_deterministic_and_streams_the_decoded_text()
    {
        using var engine = Load();
        var request = new GenerationRequest { Prompt = "Once upon a time", MaxTokens = 20, Sampling = SamplingParams.Greedy, StopAtEos = false };
        var streamed = new StringBuilder();
        var first = engine.Generate(request, d => streamed.Append(d.Text));
        var second = engine.Generate(request);
        Assert.Equal(FinishReason.Length, first.FinishReason);
        Assert.Equal(20, first.CompletionTokens);
        Assert.Equal(first.Tokens, second.Tokens);
        Assert.Equal(first.Text, streamed.ToString());
        Assert.Equal(engine.Tokenizer.Decode(first.Tokens.ToArray()), first.Text);
        Assert.Equal(engine.Tokenizer.Encode("Once upon a time", true).Count, first.PromptTokens);
    }

    [Fact]
    public void A_seed_makes_sampling_reproducible()
    {
        using var engine = Load();
        GenerationRequest Request(ulong seed) => new()
        {
            Prompt = "Tell me",
            MaxTokens = 16,
            StopAtEos = false,
            Sampling = new SamplingParams { Temperature = 1.2f, TopP = 0.95f, TopK = 50, Seed = seed },
        };
        Assert.Equal(engine.Generate(Request(5)).Tokens, engine.Generate(Request(5)).Tokens);
        Assert.NotEqual(engine.Generate(Request(5)).Tokens, engine.Generate(Request(6)).Tokens);
    }

    [Fact]
    public void A_stop_sequence_ends_the_completion_before_it()
    {
        using var engine = Load();
        var free = engine.Generate(new GenerationRequest { Prompt = "abc", MaxTokens = 30, Sampling = SamplingParams.Greedy, StopAtEos = false });
        Assert.True(free.Text.Length >= 4, $"need some text to pick a stop sequence from: '{free.Text}'");
        var stop = free.Text.Substring(free.Text.Length / 2, 2);
        var cut = free.Text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = engine.Generate(new GenerationRequest { Prompt = "abc", MaxTokens = 30, Sampling = SamplingParams.Greedy, StopAtEos = false, Stop = [stop] });
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free.Text[..cut], stopped.Text);
    }

    [Fact]
    public void Log_probabilities_come_with_each_token()
    {
        using var engine = Load();
        var result = engine.Generate(new GenerationRequest
        {
            Prompt = "x",
            MaxTokens = 5,
            StopAtEos = false,
            LogProbs = true,
            Sampling = SamplingParams.Greedy with { TopLogProbs = 3 },
        });
        Assert.Equal(5, result.LogProbs!.Count);
        for (var i = 0; i < 5; i++)
        {
            var lp = result.LogProbs[i];
            Assert.Equal(result.Tokens[i], lp.Token);
            Assert.Equal(lp.Token, lp.Top[0].Token); // greedy takes the most likely token
            Assert.Equal(lp.LogProb, lp.Top[0].LogProb, 5);
            Assert.True(lp.LogProb <= 0);
        }
    }

    [Fact]
    public void Generation_stops_at_the_context_length()
    {
        using var engine = Engine.Load(TinyModels.Path(GgmlType.F16), new Alpaca.Inference.Model.ModelOptions { ContextLength = 24 });
        var result = engine.Generate(new GenerationRequest { Prompt = "Once upon a time", MaxTokens = 100, Sampling = SamplingParams.Greedy, StopAtEos = false });
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(24, result.PromptTokens + result.CompletionTokens);
        Assert.Throws<ArgumentException>(() => engine.Generate(new GenerationRequest { Prompt = new string('a', 200) }));
    }
}
