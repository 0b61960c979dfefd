using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers.Bpe;
using Alpaca.Tokenizers.Spm;

namespace Alpaca.Tokenizers;

/// <summary>
/// Builds <see cref="ITextTokenizer"/>s from the one vocabulary model (<see cref="LlamaVocabulary"/>), which
/// Alpaca.Llm reads from every tokenizer file: GGUF metadata, <c>tokenizer.model</c>, <c>tokenizer.json</c>
/// and Hugging Face folders.
/// </summary>
public static class TokenizerFactory
{
    /// <summary>A tokenizer for model "llama" (SentencePiece scores + byte fallback) or "gpt2" (tokens + merges).</summary>
    public static ITextTokenizer FromVocabulary(LlamaVocabulary vocab) => FromVocabulary(vocab, useReferenceMerger: false);

    /// <summary>
    /// A tokenizer from a Hugging Face <c>tokenizer.json</c>: Llama-3 style byte-level BPE, or LLaMA-2 style
    /// BPE with byte_fallback. <paramref name="tokenizerConfigJson"/> (tokenizer_config.json), when given,
    /// supplies the BOS/EOS tokens and add_bos_token.
    /// </summary>
    public static ITextTokenizer FromHfTokenizerJson(string json, string? tokenizerConfigJson = null) =>
        FromVocabulary(HfTokenizerJson.Read(json, tokenizerConfigJson));

    /// <summary>A tokenizer from a GGUF file's <c>tokenizer.ggml.*</c> metadata.</summary>
    public static ITextTokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return FromVocabulary(LlamaVocabulary.RequireFromGguf(file.Metadata, file.Path));
    }

    /// <summary>
    /// A tokenizer from a file or folder: a <c>.gguf</c> model, a SentencePiece <c>tokenizer.model</c>, a
    /// <c>tokenizer.json</c> (with its tokenizer_config.json read from the same folder when present), or a
    /// Hugging Face model folder (its added tokens included).
    /// </summary>
    public static ITextTokenizer FromFile(string path) => FromVocabulary(TokenizerFile.Read(path));

    /// <summary>As <see cref="FromVocabulary(LlamaVocabulary)"/>; byte-level merges optionally by the plain reference loop (the bench compares the two).</summary>
    internal static ITextTokenizer FromVocabulary(LlamaVocabulary vocab, bool useReferenceMerger)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        var resolved = vocab.Validate().LlamaCppDefaults();
        return vocab.Model switch
        {
            LlamaVocabulary.SentencePieceModel => new SpmTokenizer(resolved),
            LlamaVocabulary.Gpt2Model => new ByteLevelBpeTokenizer(resolved, useReferenceMerger),
            _ => throw new NotSupportedException($"Tokenizer model '{vocab.Model}' is not supported; supported: 'llama' (SentencePiece BPE) and 'gpt2' (byte-level BPE)."),
        };
    }
}
