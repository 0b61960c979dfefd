using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Api.Tests;

/// <summary>Generation on an engine without the service: its own one-slot scheduler (what <c>alpaca generate</c> runs).</summary>
public static class DirectGeneration
{
    /// <summary>Greedy, ignoring EOS, from a raw prompt (BOS as the tokenizer adds it).</summary>
    public static Task<SequenceCompletion> GreedyAsync(Engine engine, string prompt, int maxTokens) => RunAsync(engine, new SequenceRequest
    {
        PromptTokens = engine.Tokenizer.Encode(prompt, engine.Tokenizer.AddBosByDefault),
        MaxTokens = maxTokens,
        IgnoreEos = true,
        Sampling = SamplingParams.Greedy,
    });

    public static async Task<SequenceCompletion> RunAsync(Engine engine, SequenceRequest request)
    {
        using var scheduler = new ContinuousBatchScheduler(engine);
        Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(request, CancellationToken.None, out var handle));
        return await handle!.ReadToEndAsync();
    }
}
