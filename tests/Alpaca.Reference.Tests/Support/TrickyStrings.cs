using System.Text;

namespace Alpaca.Reference.Tests.Support;

/// <summary>Random strings over the characters where Python's and .NET's string handling part ways.</summary>
public static class TrickyStrings
{
    /// <summary>Controls, quotes, backslash, DEL, Python's whitespace (U+001C–U+001F, U+0085, U+3000…), near-whitespace (U+200B, U+FEFF, U+180E), letters, digits, surrogates.</summary>
    public static readonly string[] Alphabet =
    [
        "\0", "\u0001", "\b", "\t", "\n", "\u000B", "\f", "\r", "\u001B", "\u001C", "\u001D", "\u001E", "\u001F", " ", "\"", "\\", "/",
        "{", "}", "a", "Z", "k", "_", "0", "9", "~", "\u007F", "\u0080", "\u0085", "\u00A0", "\u00E9", "\u0130", "\u0131", "\u017F",
        "\u0307", "\u0660", "\u1680", "\u180E", "\u2000", "\u200A", "\u200B", "\u2028", "\u2029", "\u202F", "\u205F", "\u212A", "\u3000",
        "\uFEFF", "\uFFFF", "\uD83D\uDE42", "\uD800", "\uDBFF", "\uDC00", "\uDFFF", "\U0001D7CE", "\u4F60",
    ];

    public static List<string> Make(int seed, int count, int maxLength)
    {
        var random = new Random(seed);
        var strings = new List<string> { "" };
        for (var i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            var length = random.Next(1, maxLength + 1);
            for (var k = 0; k < length; k++)
            {
                sb.Append(Alphabet[random.Next(Alphabet.Length)]);
            }

            strings.Add(sb.ToString());
        }

        return strings;
    }

    /// <summary>Every BMP code point alone (lone surrogates included), then a sample of astral ones.</summary>
    public static List<string> EveryCodePoint(int astralStep)
    {
        var strings = Enumerable.Range(0, 0x10000).Select(c => ((char)c).ToString()).ToList();
        for (var c = 0x10000; c <= 0x10FFFF; c += astralStep)
        {
            strings.Add(char.ConvertFromUtf32(c));
        }

        strings.Add(char.ConvertFromUtf32(0x10FFFF));
        return strings;
    }
}
