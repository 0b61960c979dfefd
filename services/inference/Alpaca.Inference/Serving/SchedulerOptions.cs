namespace Alpaca.Inference.Serving;

/// <summary>Limits of a <see cref="ContinuousBatchScheduler"/>. KV cache slots are the model's <c>MaxSequences</c>.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Requests that may wait for a KV cache slot; one more is rejected (RESOURCE_EXHAUSTED).</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>
    /// Prompt tokens processed per step, over all prefilling sequences. Small enough that a step with a
    /// long prompt in it still returns the running streams' next tokens quickly; large enough that
    /// prompts are read many tokens per weight pass.
    /// </summary>
    public int PrefillChunkTokens { get; init; } = 64;

    /// <summary>Speculative decoding with a draft model for greedy requests; null = off.</summary>
    public Speculative.SpeculationOptions? Speculation { get; init; }
}
