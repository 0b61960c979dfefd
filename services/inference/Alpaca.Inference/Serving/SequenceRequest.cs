using Alpaca.Inference.Sampling;

namespace Alpaca.Inference.Serving;

/// <summary>
/// One generation as the scheduler runs it: the prompt already tokenized (and templated), the stopping
/// rules and the sampler settings. Validation (context fit, ranges) is the caller's job; the scheduler
/// only re-checks what would corrupt the KV cache.
/// </summary>
public sealed record SequenceRequest
{
    public required IReadOnlyList<int> PromptTokens { get; init; }

    public int MaxTokens { get; init; } = 256;

    /// <summary>New tokens before EOS, a stop token id or a stop sequence may end the sequence.</summary>
    public int MinTokens { get; init; }

    public SamplingParams Sampling { get; init; } = new();

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Token ids that end the sequence like EOS.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>
    /// The model's end-of-turn tokens (Llama 3's &lt;|eot_id|&gt;, ChatML's &lt;|im_end|&gt;): they end the
    /// sequence exactly as EOS does — held back by min_tokens, ignored with <see cref="IgnoreEos"/>.
    /// </summary>
    public IReadOnlyList<int> EndTokenIds { get; init; } = [];

    /// <summary>Keep generating after EOS (stop token ids still end it).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Return the matched stop sequence as part of the text.</summary>
    public bool IncludeStopInOutput { get; init; }

    /// <summary>Report each token's log-probability (with <see cref="SamplingParams.TopLogProbs"/> alternatives).</summary>
    public bool LogProbs { get; init; }

    /// <summary>When the request must be finished; past it the sequence ends as cancelled (queued or running).</summary>
    public DateTime? Deadline { get; init; }

    /// <summary>Caller's id, for logs.</summary>
    public string RequestId { get; init; } = "";
}
