namespace Alpaca.Tokenizers;

/// <summary>
/// A LLaMA-family tokenizer whose ids match llama.cpp's for the same vocabulary. Ids of absent special
/// tokens are -1 (<see cref="UnkId"/> of a byte-level vocabulary, for example).
/// </summary>
public interface ITextTokenizer
{
    int VocabSize { get; }

    int BosId { get; }

    int EosId { get; }

    int? PadId { get; }

    /// <summary>The unknown token, or -1 when the vocabulary has none.</summary>
    int UnkId { get; }

    /// <summary>Whether the model expects BOS in front of a prompt (GGUF <c>tokenizer.ggml.add_bos_token</c>).</summary>
    bool AddBosByDefault { get; }

    /// <summary>
    /// Token ids of <paramref name="text"/>. With <paramref name="parseSpecial"/> the texts of control tokens
    /// (e.g. <c>&lt;s&gt;</c>) become those tokens; user-defined tokens are always matched, as in llama.cpp.
    /// </summary>
    IReadOnlyList<int> Encode(string text, bool addBos, bool parseSpecial = false);

    /// <summary>
    /// The text of <paramref name="ids"/>. Control and unknown tokens are left out when
    /// <paramref name="skipSpecial"/>, else written as their text. For SentencePiece vocabularies the one
    /// space that encoding put in front of the text is removed again, so <c>Decode(Encode(s)) == s</c>.
    /// </summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecial = true);

    /// <summary>The vocabulary entry of <paramref name="id"/> as stored (e.g. <c>▁the</c>, <c>&lt;0x0A&gt;</c>, <c>Ġthe</c>).</summary>
    string TokenText(int id);

    /// <summary>True for control and unknown tokens: the ones <see cref="Decode"/> skips.</summary>
    bool IsSpecial(int id);

    /// <summary>A detokenizer for generated ids that only ever returns whole UTF-8 characters.</summary>
    StreamingDetokenizer CreateStreamingDetokenizer();
}
