using System.Globalization;
using System.Text;

namespace Alpaca.Reference;

/// <summary>
/// Python <c>re</c> semantics for <c>str</c> patterns where .NET's differ: <c>\s</c> is Python's whitespace set
/// (<see cref="PyStr.Whitespace"/>, which includes U+001C–U+001F), and <c>\w</c> (hence <c>\b</c>) is
/// letters, numbers of every kind and '_', where .NET's also includes combining marks and connector punctuation.
/// </summary>
public static class PyRe
{
    /// <summary>A .NET regex character class equal to Python's <c>\s</c>.</summary>
    public const string WhitespaceClass = @"[\t\n\x0B\f\r\x1C-\x1F \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

    /// <summary>Python's <c>\w</c>: <c>ch.isalnum() or ch == "_"</c>, i.e. letters and numbers of every kind.</summary>
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
    /// Whether <paramref name="actual"/> matches the lower-case ASCII letter <paramref name="lowerAscii"/>
    /// under <c>re.IGNORECASE</c>: besides the ASCII pair, Python's extra equivalences let U+0130 'İ' and
    /// U+0131 'ı' match "i", U+017F 'ſ' match "s" and U+212A KELVIN SIGN match "k".
    /// </summary>
    public static bool IgnoreCaseEquals(Rune actual, char lowerAscii)
    {
        var v = actual.Value;
        if (v == lowerAscii || (v is >= 'A' and <= 'Z' && v + 32 == lowerAscii))
        {
            return true;
        }

        return lowerAscii switch
        {
            'i' => v is 0x0130 or 0x0131,
            's' => v == 0x017F,
            'k' => v == 0x212A,
            _ => false,
        };
    }

    /// <summary><c>re.sub(r"\s+", " ", s)</c>.</summary>
    public static string CollapseWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        var inSpace = false;
        foreach (var c in s)
        {
            if (PyStr.IsSpace(c))
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
}
