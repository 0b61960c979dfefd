using Alpaca.Inference.Sampling;

namespace Alpaca.Inference.Serving;

/// <summary>What a running sequence reports to its caller, in order: deltas, then one <see cref="SequenceFinished"/>.</summary>
public abstract record SequenceEvent;

/// <summary>A generated token: its id, its own piece text, special flag and (when asked) log-probability.</summary>
public sealed record SequenceToken(int Id, string Piece, bool Special, TokenLogProb? LogProb);

/// <summary>New text (whole UTF-8 characters only, never part of a stop sequence) and the tokens that produced it.</summary>
public sealed record SequenceDelta(string Text, IReadOnlyList<SequenceToken> Tokens) : SequenceEvent;

/// <summary>The end of a sequence.</summary>
public sealed record SequenceFinished(
    SequenceFinishReason Reason,
    int PromptTokens,
    int CompletionTokens,
    string? StopSequence,
    ulong Seed) : SequenceEvent;

/// <summary>Why a sequence ended (the contract's finish reasons).</summary>
public enum SequenceFinishReason
{
    /// <summary>MaxTokens reached, or the context is full.</summary>
    Length,

    /// <summary>A stop sequence matched.</summary>
    StopSequence,

    /// <summary>The end-of-sequence token or a stop token id.</summary>
    EndOfSequence,

    /// <summary>Cancelled by the caller, disconnected, or past its deadline.</summary>
    Cancelled,
}
