using System.Globalization;
using System.Text;

namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// The code point classes the pre-tokenizer regexes use (\p{L}, \p{N}, \s), as llama.cpp's unicode tables
/// define them. Categories come from .NET's Unicode data, which can be a newer Unicode version than
/// llama.cpp's tables: only code points assigned in between can differ.
/// </summary>
internal static class CodepointClass
{
    public static bool IsLetter(int cpt) => Category(cpt) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
        or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter;

    public static bool IsNumber(int cpt) => Category(cpt) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary>llama.cpp's <c>unicode_set_whitespace</c> (Unicode White_Space).</summary>
    public static bool IsWhitespace(int cpt) => cpt switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Simple lowercase mapping (only compared with ASCII letters by the contraction rule).</summary>
    public static int ToLower(int cpt) => Rune.IsValid(cpt) ? Rune.ToLowerInvariant(new Rune(cpt)).Value : cpt;

    private static UnicodeCategory Category(int cpt) =>
        Rune.IsValid(cpt) ? CharUnicodeInfo.GetUnicodeCategory(cpt) : UnicodeCategory.Surrogate;
}
