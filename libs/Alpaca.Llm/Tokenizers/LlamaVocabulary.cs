namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// The one vocabulary model of the project: a tokenizer as GGUF stores it (<c>tokenizer.ggml.*</c>), which
/// every tokenizer file is read into and written from — SentencePiece-style (<c>model = "llama"</c>:
/// pieces with scores and types, byte fallback through <c>&lt;0xXX&gt;</c> tokens; LLaMA-1/2) or byte-level
/// BPE (<c>model = "gpt2"</c>: tokens plus merges; Llama-3). A null optional field means the key is
/// absent from the file; <see cref="LlamaCppDefaults"/> says what llama.cpp then assumes.
/// </summary>
public sealed partial record LlamaVocabulary
{
    public const string SentencePieceModel = "llama";
    public const string Gpt2Model = "gpt2";

    /// <summary><c>tokenizer.ggml.model</c>: "llama" (SentencePiece BPE) or "gpt2" (byte-level BPE).</summary>
    public string Model { get; init; } = SentencePieceModel;

    /// <summary><c>tokenizer.ggml.tokens</c>: token texts by id, added tokens (e.g. train.py's [PAD]) included.</summary>
    public required string[] Tokens { get; init; }

    /// <summary><c>tokenizer.ggml.scores</c>: merge priority per token (higher merges first); 0 when absent.</summary>
    public float[]? Scores { get; init; }

    /// <summary><c>tokenizer.ggml.token_type</c>.</summary>
    public required TokenType[] Types { get; init; }

    /// <summary><c>tokenizer.ggml.merges</c>: "left right" rules, highest priority first (gpt2 only).</summary>
    public string[]? Merges { get; init; }

    /// <summary><c>tokenizer.ggml.pre</c>: the gpt2 pre-tokenizer ("llama-bpe"/"llama3" or "gpt-2").</summary>
    public string? PreTokenizer { get; init; }

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    public int? UnknownTokenId { get; init; }

    public int? PaddingTokenId { get; init; }

    public bool? AddBosToken { get; init; }

    public bool? AddEosToken { get; init; }

    /// <summary><c>tokenizer.ggml.add_space_prefix</c>: SentencePiece's dummy prefix (llama.cpp default: on).</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary>
    /// Byte-level BPE: look a whole pre-token up before merging (HF <c>ignore_merges</c>; llama.cpp does it
    /// for Llama-3). Not a GGUF key: null means llama.cpp's rule (on for the llama3 pre-tokenizer).
    /// </summary>
    public bool? IgnoreMerges { get; init; }

    /// <summary><c>tokenizer.chat_template</c>.</summary>
    public string? ChatTemplate { get; init; }

    public int Count => Tokens.Length;

    /// <summary>The text of a special token, or null when the id is absent.</summary>
    public string? TextOf(int? id) => id is { } i && i >= 0 && i < Tokens.Length ? Tokens[i] : null;

    /// <summary>The id of <paramref name="text"/> (the last one on duplicates, as llama.cpp's map), or null.</summary>
    public int? IdOf(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var id = System.Array.LastIndexOf(Tokens, text);
        return id >= 0 ? id : null;
    }

    /// <summary>Checks array lengths and special ids; throws <see cref="ArgumentException"/> naming the field.</summary>
    public LlamaVocabulary Validate()
    {
        if (Tokens.Length == 0)
        {
            throw new ArgumentException("The vocabulary has no tokens.");
        }

        if (Types.Length != Tokens.Length)
        {
            throw new ArgumentException($"Vocabulary has {Tokens.Length} tokens but {Types.Length} token types.");
        }

        if (Scores is not null && Scores.Length != Tokens.Length)
        {
            throw new ArgumentException($"Vocabulary has {Tokens.Length} tokens but {Scores.Length} scores.");
        }

        if (Model == Gpt2Model && Merges is null)
        {
            throw new ArgumentException("A gpt2 (byte-level BPE) vocabulary needs merges (tokenizer.ggml.merges).");
        }

        foreach (var (name, id) in new[] { ("BOS", BosTokenId), ("EOS", EosTokenId), ("UNK", UnknownTokenId), ("PAD", PaddingTokenId) })
        {
            if (id is { } v && (v < -1 || v >= Tokens.Length))
            {
                throw new ArgumentException($"The {name} token id {v} is outside the vocabulary of {Tokens.Length} tokens.");
            }
        }

        return this;
    }

    /// <summary>
    /// The vocabulary with absent special ids and flags set as llama.cpp sets them for the model kind
    /// (llama: BOS 1, EOS 2, UNK 0, add BOS; gpt2: BOS = EOS = 11, no UNK, add BOS only for Llama-3's
    /// pre-tokenizer). A default id that does not fit the vocabulary stays absent (-1), as in llama.cpp.
    /// </summary>
    public LlamaVocabulary LlamaCppDefaults()
    {
        var spm = Model == SentencePieceModel;
        int? Fit(int? id, int fallback) => id ?? (fallback >= 0 && fallback < Tokens.Length ? fallback : -1);
        return this with
        {
            BosTokenId = Fit(BosTokenId, spm ? 1 : 11),
            EosTokenId = Fit(EosTokenId, spm ? 2 : 11),
            UnknownTokenId = Fit(UnknownTokenId, spm ? 0 : -1),
            AddBosToken = AddBosToken ?? (spm || IsLlama3PreTokenizer(PreTokenizer)),
            AddEosToken = AddEosToken ?? false,
            AddSpacePrefix = AddSpacePrefix ?? spm,
            IgnoreMerges = IgnoreMerges ?? IsLlama3PreTokenizer(PreTokenizer),
        };
    }

    /// <summary>The <c>tokenizer.ggml.pre</c> names llama.cpp gives Llama-3's regex.</summary>
    public static bool IsLlama3PreTokenizer(string? pre) => pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "pixtral";

    /// <summary>
    /// A LLaMA-style byte-fallback SentencePiece vocabulary of exactly <paramref name="size"/> tokens:
    /// 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, 3..258 &lt;0x00&gt;..&lt;0xFF&gt; (type BYTE), then text pieces
    /// (U+2581 ▁ marks a leading space) scored −rank, padded with &lt;pad_N&gt; pieces if needed.
    /// </summary>
    public static LlamaVocabulary CreateByteFallback(int size) => ByteFallbackVocabularyBuilder.Build(size);
}
