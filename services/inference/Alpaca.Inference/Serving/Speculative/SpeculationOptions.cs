namespace Alpaca.Inference.Serving.Speculative;

/// <summary>
/// Speculative decoding for a scheduler: a small <see cref="Draft"/> model of the same vocabulary proposes
/// <see cref="Tokens"/> tokens per greedy sequence and step, the target checks them all in one forward pass.
/// The scheduler does not own the draft engine: whoever loaded it disposes it after the scheduler.
/// </summary>
public sealed record SpeculationOptions
{
    /// <summary>Largest number of draft tokens accepted per step (llama.cpp's <c>--draft-max</c>, vLLM's <c>num_speculative_tokens</c>).</summary>
    public const int MaxTokens = 16;

    /// <summary>The draft model, checked against the target with <see cref="DraftCompatibility.Check"/>.</summary>
    public required Engine Draft { get; init; }

    /// <summary>Tokens the draft proposes per step (k), 1..<see cref="MaxTokens"/>.</summary>
    public int Tokens { get; init; } = 4;
}
