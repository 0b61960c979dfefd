using System.Text.RegularExpressions;
using Alpaca.Reference;

namespace Alpaca.Dedup.Rouge;

/// <summary>
/// rouge_score 0.1.2's <c>DefaultTokenizer(use_stemmer=False)</c>, step for step, as the plain reference
/// the fast interning tokenizer (<see cref="TokenVocabulary"/>) is tested against:
/// <c>text.lower()</c> (only its ASCII survives the next step, so <see cref="PyStr.LowerAscii"/> is exact),
/// <c>re.sub(r"[^a-z0-9]+", " ", text)</c>, split on whitespace, keep the pieces matching <c>^[a-z0-9]+$</c>.
/// </summary>
public static partial class RougeTokenizer
{
    public static List<string> Tokenize(string text)
    {
        var spaced = NonAlphanumeric().Replace(PyStr.LowerAscii(text), " ");
        return spaced.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(t => Alphanumeric().IsMatch(t)).ToList();
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlphanumeric();

    [GeneratedRegex("^[a-z0-9]+$")]
    private static partial Regex Alphanumeric();
}
