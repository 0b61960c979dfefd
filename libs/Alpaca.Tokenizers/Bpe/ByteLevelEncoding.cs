using System.Text;

namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// GPT-2's reversible map from bytes to printable characters (<c>bytes_to_unicode</c>): printable Latin-1
/// bytes stand for themselves, the other 68 bytes map to U+0100.. in order (space → <c>Ġ</c>, newline → <c>Ċ</c>).
/// Byte-level BPE vocabularies are written in these characters.
/// </summary>
internal static class ByteLevelEncoding
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    public static char Encode(byte b) => ByteToChar[b];

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, each written as its byte-level character.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        var byteCount = Encoding.UTF8.GetByteCount(text);
        var bytes = new byte[byteCount];
        Encoding.UTF8.GetBytes(text, bytes);
        return string.Create(byteCount, bytes, static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                chars[i] = ByteToChar[source[i]];
            }
        });
    }

    /// <summary>
    /// The bytes a byte-level token stands for. A character outside the map (which a well-formed vocabulary
    /// never has) is kept as its own UTF-8, rather than llama.cpp's "[UNK_BYTE_…]" marker.
    /// </summary>
    public static byte[] Decode(string token)
    {
        var bytes = new List<byte>(token.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in token.EnumerateRunes())
        {
            if (rune.IsBmp && CharToByte.TryGetValue((char)rune.Value, out var b))
            {
                bytes.Add(b);
            }
            else
            {
                var n = rune.EncodeToUtf8(utf8);
                bytes.AddRange(utf8[..n]);
            }
        }

        return bytes.ToArray();
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }
}
