namespace Alpaca.Tokenizers.Decoding;

/// <summary>How a token shows up in decoded text (llama.cpp's <c>token_to_piece</c> rules).</summary>
internal enum PieceKind : byte
{
    /// <summary>Normal, byte and user-defined tokens: always written.</summary>
    Text,

    /// <summary>Control and unknown tokens: written as their text only when special tokens are not skipped.</summary>
    Special,

    /// <summary>Unused/undefined tokens: llama.cpp writes nothing for them.</summary>
    Hidden,
}
