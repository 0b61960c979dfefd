using Alpaca.Llm.Tokenizers;

namespace Alpaca.Tokenizers.Tests.Support;

/// <summary>Small hand-built SentencePiece vocabularies: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, 256 byte pieces, then the given pieces.</summary>
public static class TestVocab
{
    public const int FirstPiece = 259;

    /// <summary>Pieces with explicit scores; extra (text, type) tokens go after them.</summary>
    public static LlamaVocabulary Spm(IEnumerable<(string Piece, float Score)> pieces, bool withBytes = true, bool? addSpacePrefix = null, params (string Text, TokenType Type)[] extra)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<TokenType> { TokenType.Unknown, TokenType.Control, TokenType.Control };
        var scores = new List<float> { 0, 0, 0 };
        for (var b = 0; b < 256; b++)
        {
            tokens.Add(withBytes ? $"<0x{b:X2}>" : $"<nobyte{b}>");
            types.Add(withBytes ? TokenType.Byte : TokenType.Unused);
            scores.Add(0);
        }

        foreach (var (piece, score) in pieces)
        {
            tokens.Add(piece);
            types.Add(TokenType.Normal);
            scores.Add(score);
        }

        foreach (var (text, type) in extra)
        {
            tokens.Add(text);
            types.Add(type);
            scores.Add(0);
        }

        return new LlamaVocabulary
        {
            Model = LlamaVocabulary.SentencePieceModel,
            Tokens = [.. tokens],
            Types = [.. types],
            Scores = [.. scores],
            AddSpacePrefix = addSpacePrefix,
        };
    }

    /// <summary>Pieces scored by rank: earlier pieces merge first.</summary>
    public static LlamaVocabulary Ranked(params string[] pieces) => Spm(pieces.Select((p, i) => (p, (float)-i)));
}
