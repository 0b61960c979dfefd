using System.Text;

namespace Alpaca.Reference;

/// <summary>
/// The Python <c>str</c> methods the reference implementations rely on, reproduced exactly rather than
/// approximated with .NET's: Python's whitespace set (<c>str.isspace</c>, also what <c>str.split()</c> and
/// <c>str.strip()</c> use) contains U+001C–U+001F, which <see cref="char.IsWhiteSpace(char)"/> does not.
/// </summary>
public static class PyStr
{
    /// <summary>Every code point for which Python 3's <c>str.isspace()</c> is true (none lies outside the BMP).</summary>
    public const string Whitespace =
        "\t\n\u000B\u000C\r\u001C\u001D\u001E\u001F \u0085\u00A0\u1680" +
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A" +
        "\u2028\u2029\u202F\u205F\u3000";

    /// <summary>The 32 characters of Python's <c>string.punctuation</c>.</summary>
    public const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    /// <summary><c>c.isspace()</c>.</summary>
    public static bool IsSpace(char c) => Whitespace.Contains(c);

    /// <summary><c>s.strip()</c>.</summary>
    public static string Strip(string s)
    {
        var start = 0;
        var end = s.Length;
        while (start < end && IsSpace(s[start]))
        {
            start++;
        }

        while (end > start && IsSpace(s[end - 1]))
        {
            end--;
        }

        return s[start..end];
    }

    /// <summary><c>len(s.split())</c>: the number of maximal runs of non-whitespace.</summary>
    public static int SplitCount(string s)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in s)
        {
            var space = IsSpace(c);
            if (!space && !inWord)
            {
                count++;
            }

            inWord = !space;
        }

        return count;
    }

    /// <summary>
    /// <c>ord(s[0])</c> of a non-empty string: Python indexes code points, so a surrogate pair is one
    /// character, and a lone surrogate is a character of its own.
    /// </summary>
    public static int FirstCodePoint(string s) =>
        char.IsHighSurrogate(s[0]) && s.Length > 1 && char.IsLowSurrogate(s[1]) ? char.ConvertToUtf32(s[0], s[1]) : s[0];

    /// <summary>
    /// <c>s.lower()</c> wherever the result is ASCII, and each other character left as it is. Exactly two
    /// non-ASCII code points lower-case to something with ASCII in it under Python's full lower-casing
    /// (checked against every code point by the tests): U+0130 'İ' → "i" + U+0307 and U+212A KELVIN SIGN → 'k';
    /// every other non-ASCII character lower-cases to non-ASCII. So comparisons with ASCII text and ASCII
    /// tokenizers see exactly what they would see in Python's <c>s.lower()</c>. <c>ToLowerInvariant</c> is not
    /// used: its U+0130 mapping differs from Python's.
    /// </summary>
    public static string LowerAscii(string s)
    {
        var lowered = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            switch (c)
            {
                case >= 'A' and <= 'Z':
                    lowered.Append((char)(c + 32));
                    break;
                case '\u0130':
                    lowered.Append("i\u0307");
                    break;
                case '\u212A':
                    lowered.Append('k');
                    break;
                default:
                    lowered.Append(c);
                    break;
            }
        }

        return lowered.ToString();
    }
}
