using System.Globalization;
using System.Text;

namespace Alpaca.Generator.Text;

/// <summary>
/// The few Python <c>str</c> semantics the reference generator relies on, reproduced exactly rather than
/// approximated with .NET's: Python's whitespace set (<c>str.isspace</c>, also what <c>re</c>'s <c>\s</c>
/// and <c>str.split()</c>/<c>strip()</c> use) contains U+001C–U+001F, which <see cref="char.IsWhiteSpace(char)"/>
/// does not, and Python's <c>\w</c> (used by <c>\b</c>) is letters + all numbers + '_', where .NET's also
/// includes combining marks and connector punctuation.
/// </summary>
public static class PyText
{
    /// <summary>Every code point for which Python 3's <c>str.isspace()</c> is true (all in the BMP).</summary>
    public const string WhitespaceChars =
        "\t\n\u000B\u000C\r\u001C\u001D\u001E\u001F \u0085\u00A0\u1680" +
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A" +
        "\u2028\u2029\u202F\u205F\u3000";

    /// <summary>A .NET regex character class equal to Python's <c>\s</c> for <c>str</c> patterns.</summary>
    public const string WhitespaceClass = @"[\t\n\x0B\f\r\x1C-\x1F \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

    /// <summary>The 32 characters of Python's <c>string.punctuation</c>.</summary>
    public const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    public static bool IsSpace(char c) => WhitespaceChars.Contains(c);

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
    public static int WordCount(string s)
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

    /// <summary><c>re.sub(r"\s+", " ", s)</c>.</summary>
    public static string CollapseWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        var inSpace = false;
        foreach (var c in s)
        {
            if (IsSpace(c))
            {
                if (!inSpace)
                {
                    sb.Append(' ');
                }

                inSpace = true;
            }
            else
            {
                sb.Append(c);
                inSpace = false;
            }
        }

        return sb.ToString();
    }

    /// <summary>The first code point of a non-empty string (<c>s[0]</c> in Python indexes code points).</summary>
    public static Rune FirstRune(string s) =>
        Rune.DecodeFromUtf16(s, out var rune, out _) == System.Buffers.OperationStatus.Done ? rune : Rune.ReplacementChar;

    /// <summary>Python's <c>\w</c> for <c>str</c> patterns: <c>ch.isalnum() or ch == "_"</c>, i.e. letters and numbers of every kind.</summary>
    public static bool IsWordChar(Rune r)
    {
        if (r.Value == '_')
        {
            return true;
        }

        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
            _ => false,
        };
    }

    /// <summary>
    /// <c>s.lower() == lowerAscii</c> for an all-lower-case ASCII <paramref name="lowerAscii"/>. Only A–Z lower
    /// to ASCII letters one for one under Python's full lower-casing (U+0130 becomes two code points and
    /// U+212A gives 'k'), so an ASCII comparison is exact for targets without 'k'.
    /// </summary>
    public static bool LowerEqualsAscii(string s, string lowerAscii)
    {
        if (s.Length != lowerAscii.Length)
        {
            return false;
        }

        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            var lower = c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
            if (lower != lowerAscii[i] && !(c == '\u212A' && lowerAscii[i] == 'k'))
            {
                return false;
            }
        }

        return true;
    }
}
