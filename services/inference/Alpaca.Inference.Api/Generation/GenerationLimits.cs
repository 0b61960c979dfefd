namespace Alpaca.Inference.Api.Generation;

/// <summary>
/// Configuration section <c>Alpaca:Inference:Limits</c> (environment: <c>Alpaca__Inference__Limits__MaxPromptChars</c> …):
/// what a generation request may ask for, checked before any tokenizing or scheduling, so an oversized request
/// costs a length comparison and not a tokenizer pass over megabytes of text.
/// </summary>
public sealed class GenerationLimits
{
    public const string Section = "Alpaca:Inference:Limits";

    /// <summary>The defaults, which <c>alpaca generate</c> also uses.</summary>
    public static readonly GenerationLimits Default = new();

    /// <summary>Characters (UTF-16 code units) of a raw prompt, or of instruction + input together.</summary>
    public int MaxPromptChars { get; set; } = 262_144;

    /// <summary>Server-side cap on max_tokens, whatever the context would allow.</summary>
    public int MaxTokens { get; set; } = 8192;

    /// <summary>Stop sequences per request.</summary>
    public int MaxStops { get; set; } = 16;

    /// <summary>UTF-8 bytes of one stop sequence.</summary>
    public int MaxStopBytes { get; set; } = 256;

    /// <summary>Entries of stop_token_ids.</summary>
    public int MaxStopTokenIds { get; set; } = 64;

    /// <summary>Characters of a model name (requests, LoadModel).</summary>
    public int MaxModelNameChars { get; set; } = 128;

    /// <summary>Characters of a request id (gRPC request_id, OpenAI user).</summary>
    public int MaxRequestIdChars { get; set; } = 256;

    /// <summary>Characters of the text of Tokenize, and ids of Detokenize.</summary>
    public int MaxTokenizeChars { get; set; } = 262_144;

    /// <summary>Characters of a chat template given per request or at load (published templates are under 20,000).</summary>
    public int MaxChatTemplateChars { get; set; } = 65_536;

    /// <summary>Most engine threads LoadModel may ask for; 0 = the number of cores.</summary>
    public int MaxLoadThreads { get; set; }

    /// <summary>Largest context_length LoadModel may ask for (positions per KV slot).</summary>
    public int MaxLoadContextLength { get; set; } = 32_768;

    /// <summary><see cref="MaxLoadThreads"/> with 0 resolved to the number of cores.</summary>
    public int EffectiveMaxLoadThreads => MaxLoadThreads > 0 ? MaxLoadThreads : Environment.ProcessorCount;

    /// <summary>Refuses nonsensical settings at start-up with the key and the value.</summary>
    public void Validate()
    {
        foreach (var (key, value) in new[]
        {
            (nameof(MaxPromptChars), MaxPromptChars), (nameof(MaxTokens), MaxTokens), (nameof(MaxStopBytes), MaxStopBytes),
            (nameof(MaxModelNameChars), MaxModelNameChars), (nameof(MaxRequestIdChars), MaxRequestIdChars),
            (nameof(MaxTokenizeChars), MaxTokenizeChars), (nameof(MaxLoadContextLength), MaxLoadContextLength),
            (nameof(MaxChatTemplateChars), MaxChatTemplateChars),
        })
        {
            if (value <= 0)
            {
                throw new InvalidOperationException($"{Section}:{key} = {value} must be positive.");
            }
        }

        foreach (var (key, value) in new[] { (nameof(MaxStops), MaxStops), (nameof(MaxStopTokenIds), MaxStopTokenIds), (nameof(MaxLoadThreads), MaxLoadThreads) })
        {
            if (value < 0)
            {
                throw new InvalidOperationException($"{Section}:{key} = {value} must not be negative.");
            }
        }
    }
}
