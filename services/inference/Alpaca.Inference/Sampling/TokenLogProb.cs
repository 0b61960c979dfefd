namespace Alpaca.Inference.Sampling;

/// <summary>A token and its natural-log probability under the model (log-softmax of the raw logits).</summary>
public readonly record struct TokenProb(int Token, float LogProb);

/// <summary>The chosen token's log-probability and, if asked for, the most likely alternatives.</summary>
public sealed record TokenLogProb(int Token, float LogProb, IReadOnlyList<TokenProb> Top);
