using Alpaca.Inference.Sampling;

namespace Alpaca.Inference.Generation;

/// <summary>One completion: a prompt (already templated), limits, sampling and stop sequences.</summary>
public sealed record GenerationRequest
{
    public required string Prompt { get; init; }

    public int MaxTokens { get; init; } = 256;

    public SamplingParams Sampling { get; init; } = new();

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Prepend BOS (null = the tokenizer's default).</summary>
    public bool? AddBos { get; init; }

    /// <summary>Stop at the end-of-sequence token (false lets generation run to MaxTokens).</summary>
    public bool StopAtEos { get; init; } = true;

    /// <summary>Report each token's log-probability.</summary>
    public bool LogProbs { get; init; }
}

/// <summary>Why generation ended, in OpenAI's words.</summary>
public enum FinishReason
{
    /// <summary>A stop sequence or the end-of-sequence token.</summary>
    Stop,

    /// <summary>MaxTokens or the context length was reached.</summary>
    Length,

    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>A piece of streamed output: the text released by one token (may be empty) and its log-probability.</summary>
public sealed record GenerationDelta(int Token, string Text, TokenLogProb? LogProb);

/// <summary>The outcome of a completion.</summary>
public sealed record GenerationResult
{
    public required string Text { get; init; }

    public required FinishReason FinishReason { get; init; }

    public required int PromptTokens { get; init; }

    public required int CompletionTokens { get; init; }

    public required IReadOnlyList<int> Tokens { get; init; }

    public IReadOnlyList<TokenLogProb>? LogProbs { get; init; }

    public TimeSpan PromptTime { get; init; }

    public TimeSpan GenerationTime { get; init; }

    public double PromptTokensPerSecond => PromptTokens / Math.Max(PromptTime.TotalSeconds, 1e-9);

    public double GenerationTokensPerSecond => CompletionTokens / Math.Max(GenerationTime.TotalSeconds, 1e-9);
}
