using System.Text;
using Alpaca.Tokenizers.Decoding;

namespace Alpaca.Tokenizers;

/// <summary>
/// Turns generated ids into text as they arrive. Each <see cref="Append"/> returns only whole characters:
/// bytes of a UTF-8 sequence that is still incomplete (a multi-byte character spread over byte-fallback
/// tokens) are held back until it completes. The concatenation of every delta and <see cref="Flush"/>
/// equals <see cref="ITextTokenizer.Decode"/> of the same ids. Not thread-safe: one per generation.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly PieceTable _pieces;
    private readonly bool _skipSpecial;

    // The framework's stateful UTF-8 decoder keeps incomplete sequences between calls and replaces
    // invalid ones exactly as Encoding.UTF8.GetString does for the whole buffer.
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];
    private bool _wroteAny;

    internal StreamingDetokenizer(PieceTable pieces, bool skipSpecial = true)
    {
        _pieces = pieces;
        _skipSpecial = skipSpecial;
    }

    /// <summary>The text that <paramref name="id"/> completes; empty while a character is still partial.</summary>
    public string Append(int id) => Convert(_pieces.Next(id, _skipSpecial, ref _wroteAny), flush: false);

    /// <summary>Ends the stream: bytes of a character that never completed come out as U+FFFD.</summary>
    public string Flush()
    {
        var text = Convert([], flush: true);
        _wroteAny = false;
        return text;
    }

    /// <summary>Forgets any pending bytes and starts a new text.</summary>
    public void Reset()
    {
        _decoder.Reset();
        _wroteAny = false;
    }

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        var needed = _decoder.GetCharCount(bytes, flush);
        if (needed == 0)
        {
            // GetCharCount does not advance the decoder; GetChars must still see the bytes to buffer them.
            _decoder.GetChars(bytes, [], flush);
            return string.Empty;
        }

        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var written = _decoder.GetChars(bytes, _chars, flush);
        return new string(_chars, 0, written);
    }
}
