using System.Text;
using System.Text.RegularExpressions;

namespace Alpaca.Dedup.Rouge;

/// <summary>
/// rouge_score 0.1.2's <c>DefaultTokenizer(use_stemmer=False)</c>, step for step, as the plain reference
/// the fast interning tokenizer (<see cref="TokenVocabulary"/>) is tested against:
/// <c>text.lower()</c>, <c>re.sub(r"[^a-z0-9]+", " ", text)</c>, split on whitespace, keep the pieces
/// matching <c>^[a-z0-9]+$</c>.
/// </summary>
public static partial class RougeTokenizer
{
    public static List<string> Tokenize(string text)
    {
        var spaced = NonAlphanumeric().Replace(PythonLowerForTokens(text), " ");
        return spaced.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(t => Alphanumeric().IsMatch(t)).ToList();
    }

    /// <summary>
    /// Python's <c>str.lower()</c> as far as the tokenizer can see it: only ASCII [a-z0-9] survive step 2,
    /// and exactly two non-ASCII code points lower-case to ASCII (checked against every code point of
    /// Python 3.11): U+0130 'İ' → "i" + U+0307 and U+212A KELVIN SIGN → 'k'. Every other character is
    /// kept as it is (whatever it lower-cases to is non-ASCII, hence a separator). <c>ToLowerInvariant</c>
    /// is not used: its U+0130 mapping differs from Python's.
    /// </summary>
    public static string PythonLowerForTokens(string text)
    {
        var lowered = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            lowered.Append(c switch
            {
                >= 'A' and <= 'Z' => ((char)(c + 32)).ToString(),
                '\u0130' => "i\u0307",
                '\u212A' => "k",
                _ => c.ToString(),
            });
        }

        return lowered.ToString();
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlphanumeric();

    [GeneratedRegex("^[a-z0-9]+$")]
    private static partial Regex Alphanumeric();
}
