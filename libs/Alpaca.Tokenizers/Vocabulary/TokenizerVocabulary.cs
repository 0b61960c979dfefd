namespace Alpaca.Tokenizers.Vocabulary;

/// <summary>
/// A tokenizer described by plain data, mirroring GGUF's <c>tokenizer.ggml.*</c> keys, so that tokenizers
/// can be built without a model file. Unset optional fields take llama.cpp's defaults for the model kind.
/// </summary>
public sealed record TokenizerVocabulary
{
    /// <summary>SentencePiece BPE with byte fallback (LLaMA-1/2, TinyLlama).</summary>
    public const string LlamaModel = "llama";

    /// <summary>Byte-level BPE with merges (Llama-3, GPT-2).</summary>
    public const string Gpt2Model = "gpt2";

    /// <summary><see cref="LlamaModel"/> or <see cref="Gpt2Model"/> (<c>tokenizer.ggml.model</c>).</summary>
    public required string Model { get; init; }

    /// <summary>Token texts by id (<c>tokenizer.ggml.tokens</c>).</summary>
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary>SentencePiece merge scores by id (<c>tokenizer.ggml.scores</c>); 0 when absent.</summary>
    public IReadOnlyList<float>? Scores { get; init; }

    /// <summary>Token types by id (<c>tokenizer.ggml.token_type</c>); all <see cref="TokenType.Normal"/> when absent.</summary>
    public IReadOnlyList<TokenType>? TokenTypes { get; init; }

    /// <summary>BPE merges as "left right", highest priority first (<c>tokenizer.ggml.merges</c>, gpt2 only).</summary>
    public IReadOnlyList<string>? Merges { get; init; }

    /// <summary>Pre-tokenizer name (<c>tokenizer.ggml.pre</c>, gpt2 only): "llama3"/"llama-bpe" or "gpt-2".</summary>
    public string? Pre { get; init; }

    public int? BosId { get; init; }

    public int? EosId { get; init; }

    public int? UnkId { get; init; }

    public int? PadId { get; init; }

    public bool? AddBos { get; init; }

    public bool? AddEos { get; init; }

    /// <summary>SentencePiece's dummy prefix space (<c>tokenizer.ggml.add_space_prefix</c>); default true for llama.</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary>
    /// Byte-level BPE only: look a whole pre-token up in the vocabulary before merging
    /// (llama.cpp does this for Llama-3; HF <c>ignore_merges</c>). Default: true for the llama3 pre-tokenizer.
    /// </summary>
    public bool? IgnoreMerges { get; init; }
}
