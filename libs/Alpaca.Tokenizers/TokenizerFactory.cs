using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers.Bpe;
using Alpaca.Tokenizers.Spm;
using Alpaca.Tokenizers.Vocabulary;

namespace Alpaca.Tokenizers;

/// <summary>Builds <see cref="ITextTokenizer"/>s from GGUF metadata, HF tokenizer.json or plain data.</summary>
public static class TokenizerFactory
{
    /// <summary>A tokenizer for model "llama" (SentencePiece scores + byte fallback) or "gpt2" (tokens + merges).</summary>
    public static ITextTokenizer FromVocabulary(TokenizerVocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        return vocab.Model switch
        {
            TokenizerVocabulary.LlamaModel => new SpmTokenizer(vocab),
            TokenizerVocabulary.Gpt2Model => new ByteLevelBpeTokenizer(vocab),
            _ => throw new NotSupportedException($"Tokenizer model '{vocab.Model}' is not supported; supported: 'llama' (SentencePiece BPE) and 'gpt2' (byte-level BPE)."),
        };
    }

    /// <summary>
    /// A tokenizer from a Hugging Face <c>tokenizer.json</c>: Llama-3 style byte-level BPE, or LLaMA-2 style
    /// BPE with byte_fallback. <paramref name="tokenizerConfigJson"/> (tokenizer_config.json), when given,
    /// supplies the BOS/EOS tokens and add_bos_token.
    /// </summary>
    public static ITextTokenizer FromHfTokenizerJson(string json, string? tokenizerConfigJson = null) =>
        FromVocabulary(HfTokenizerJsonReader.Read(json, tokenizerConfigJson));

    /// <summary>A tokenizer from a GGUF file's <c>tokenizer.ggml.*</c> metadata.</summary>
    public static ITextTokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return FromVocabulary(GgufVocabularyReader.Read(file.Metadata, file.Path));
    }

    /// <summary>A tokenizer from Alpaca.Llm's vocabulary record (what the tiny-model factory embeds).</summary>
    public static ITextTokenizer FromLlamaVocabulary(LlamaVocabulary vocab) => FromVocabulary(vocab.ToTokenizerVocabulary());

    /// <summary>A tokenizer from a SentencePiece <c>tokenizer.model</c> (HF LLaMA / LLaMA-2 / TinyLlama folders).</summary>
    public static ITextTokenizer FromSentencePieceModel(string path) => FromLlamaVocabulary(SentencePieceModelFile.Read(path));

    /// <summary>
    /// A tokenizer from a file: a <c>.gguf</c> model, a SentencePiece <c>tokenizer.model</c>, or a
    /// <c>tokenizer.json</c> (with its tokenizer_config.json read from the same folder when present).
    /// </summary>
    public static ITextTokenizer FromFile(string path) => FromVocabulary(ReadVocabulary(path));

    /// <summary>The vocabulary of a file that <see cref="FromFile"/> accepts.</summary>
    public static TokenizerVocabulary ReadVocabulary(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        }

        if (IsGguf(path))
        {
            using var gguf = GgufFile.Open(path);
            return GgufVocabularyReader.Read(gguf.Metadata, path);
        }

        if (Path.GetFileName(path).EndsWith(".model", StringComparison.OrdinalIgnoreCase))
        {
            return SentencePieceModelFile.Read(path).ToTokenizerVocabulary();
        }

        var config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json");
        try
        {
            return HfTokenizerJsonReader.Read(File.ReadAllText(path), File.Exists(config) ? File.ReadAllText(config) : null);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static bool IsGguf(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }
}
