using Alpaca.Llm.Gguf;

namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// A tokenizer vocabulary as GGUF stores it (<c>tokenizer.ggml.*</c>): either SentencePiece-style
/// (<c>model = "llama"</c>: pieces with scores and types, byte fallback through <c>&lt;0xXX&gt;</c> tokens)
/// or GPT-2 byte-level BPE (<c>model = "gpt2"</c>: tokens plus merges).
/// </summary>
public sealed record LlamaVocabulary
{
    public const string SentencePieceModel = "llama";
    public const string Gpt2Model = "gpt2";

    /// <summary>"llama" (SentencePiece BPE) or "gpt2" (byte-level BPE).</summary>
    public string Model { get; init; } = SentencePieceModel;

    public required string[] Tokens { get; init; }

    /// <summary>Merge priority per token (higher merges first); SentencePiece vocabularies need it.</summary>
    public float[]? Scores { get; init; }

    public required TokenType[] Types { get; init; }

    /// <summary>"a b" merge rules for gpt2 vocabularies.</summary>
    public string[]? Merges { get; init; }

    /// <summary><c>tokenizer.ggml.pre</c>: the pre-tokenizer name llama.cpp uses for gpt2 vocabularies (e.g. "default", "llama-bpe").</summary>
    public string? PreTokenizer { get; init; }

    public int BosTokenId { get; init; } = 1;

    public int EosTokenId { get; init; } = 2;

    public int? UnknownTokenId { get; init; } = 0;

    public int? PaddingTokenId { get; init; }

    public bool AddBosToken { get; init; } = true;

    public bool AddEosToken { get; init; }

    public string? ChatTemplate { get; init; }

    public int Count => Tokens.Length;

    /// <summary>Checks array lengths and special ids; throws <see cref="ArgumentException"/> naming the field.</summary>
    public LlamaVocabulary Validate()
    {
        if (Model is not (SentencePieceModel or Gpt2Model))
        {
            throw new ArgumentException($"Vocabulary model '{Model}' is not supported (use \"llama\" or \"gpt2\").");
        }

        if (Types.Length != Tokens.Length)
        {
            throw new ArgumentException($"Vocabulary has {Tokens.Length} tokens but {Types.Length} token types.");
        }

        if (Scores is not null && Scores.Length != Tokens.Length)
        {
            throw new ArgumentException($"Vocabulary has {Tokens.Length} tokens but {Scores.Length} scores.");
        }

        if (Model == SentencePieceModel && Scores is null)
        {
            throw new ArgumentException("A SentencePiece (\"llama\") vocabulary needs scores.");
        }

        if (Model == Gpt2Model && Merges is null)
        {
            throw new ArgumentException("A gpt2 vocabulary needs merges.");
        }

        foreach (var (name, id) in new[] { ("bos", (int?)BosTokenId), ("eos", EosTokenId), ("unk", UnknownTokenId), ("pad", PaddingTokenId) })
        {
            if (id is { } v && (v < 0 || v >= Tokens.Length))
            {
                throw new ArgumentException($"The {name} token id {v} is outside the {Tokens.Length}-token vocabulary.");
            }
        }

        return this;
    }

    /// <summary>Writes the <c>tokenizer.ggml.*</c> keys llama.cpp reads.</summary>
    public void ApplyTo(GgufMetadata md)
    {
        Validate();
        md.Set("tokenizer.ggml.model", GgufValue.String(Model));
        if (PreTokenizer is not null)
        {
            md.Set("tokenizer.ggml.pre", GgufValue.String(PreTokenizer));
        }

        md.Set("tokenizer.ggml.tokens", GgufValue.Array(Tokens));
        if (Scores is not null)
        {
            md.Set("tokenizer.ggml.scores", GgufValue.Array(Scores));
        }

        md.Set("tokenizer.ggml.token_type", GgufValue.Array(Types.Select(t => (int)t).ToArray()));
        if (Merges is not null)
        {
            md.Set("tokenizer.ggml.merges", GgufValue.Array(Merges));
        }

        md.Set("tokenizer.ggml.bos_token_id", GgufValue.UInt32((uint)BosTokenId));
        md.Set("tokenizer.ggml.eos_token_id", GgufValue.UInt32((uint)EosTokenId));
        if (UnknownTokenId is { } unk)
        {
            md.Set("tokenizer.ggml.unknown_token_id", GgufValue.UInt32((uint)unk));
        }

        if (PaddingTokenId is { } pad)
        {
            md.Set("tokenizer.ggml.padding_token_id", GgufValue.UInt32((uint)pad));
        }

        md.Set("tokenizer.ggml.add_bos_token", GgufValue.Bool(AddBosToken));
        md.Set("tokenizer.ggml.add_eos_token", GgufValue.Bool(AddEosToken));
        if (ChatTemplate is not null)
        {
            md.Set("tokenizer.chat_template", GgufValue.String(ChatTemplate));
        }
    }

    /// <summary>Reads the vocabulary of a GGUF file; null when it carries none.</summary>
    public static LlamaVocabulary? FromGguf(GgufMetadata md, string? source = null)
    {
        var tokens = md.GetArray<string>("tokenizer.ggml.tokens");
        if (tokens is null)
        {
            return null;
        }

        var where = source ?? "GGUF";
        try
        {
            var types = md.TryGetValue("tokenizer.ggml.token_type", out var tt)
                ? tt.AsArray<int>().Select(t => (TokenType)t).ToArray()
                : Enumerable.Repeat(TokenType.Normal, tokens.Length).ToArray();
            int? Id(string key) => md.GetInteger(key) is { } v ? checked((int)v) : null;
            return new LlamaVocabulary
            {
                Model = md.GetString("tokenizer.ggml.model") ?? SentencePieceModel,
                PreTokenizer = md.GetString("tokenizer.ggml.pre"),
                Tokens = tokens,
                Scores = md.GetArray<float>("tokenizer.ggml.scores"),
                Types = types,
                Merges = md.GetArray<string>("tokenizer.ggml.merges"),
                BosTokenId = Id("tokenizer.ggml.bos_token_id") ?? 1,
                EosTokenId = Id("tokenizer.ggml.eos_token_id") ?? 2,
                UnknownTokenId = Id("tokenizer.ggml.unknown_token_id"),
                PaddingTokenId = Id("tokenizer.ggml.padding_token_id"),
                AddBosToken = md.GetBool("tokenizer.ggml.add_bos_token") ?? true,
                AddEosToken = md.GetBool("tokenizer.ggml.add_eos_token") ?? false,
                ChatTemplate = md.GetString("tokenizer.chat_template"),
            }.Validate();
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"{where}: bad tokenizer metadata: {e.Message}", e);
        }
    }

    /// <summary>
    /// A LLaMA-style byte-fallback SentencePiece vocabulary of exactly <paramref name="size"/> tokens:
    /// 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, 3..258 &lt;0x00&gt;..&lt;0xFF&gt; (type BYTE), then text pieces
    /// (U+2581 ▁ marks a leading space) scored −rank, padded with &lt;pad_N&gt; pieces if needed.
    /// </summary>
    public static LlamaVocabulary CreateByteFallback(int size) => ByteFallbackVocabularyBuilder.Build(size);
}
