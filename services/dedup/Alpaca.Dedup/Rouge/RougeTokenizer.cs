namespace Alpaca.Dedup.Rouge;

/// <summary>
/// rouge_score 0.1.2's DefaultTokenizer without stemming: the tokens are the maximal runs of ASCII
/// <c>[a-z0-9]</c> in Python's <c>str.lower()</c> of the text. Every other UTF-16 unit separates
/// (non-ASCII letters, punctuation, lone surrogates). Python lower-cases exactly two non-ASCII code
/// points to ASCII: U+0130 'İ' becomes "i" + U+0307 (so an 'i' then a separator) and U+212A KELVIN
/// SIGN becomes 'k'. <c>ToLowerInvariant</c> is not used: its U+0130 mapping differs from Python's.
/// </summary>
public static class RougeTokenizer
{
    public static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var run = new System.Text.StringBuilder();
        foreach (var c in text)
        {
            char mapped;
            var endsRun = false;
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                mapped = c;
            }
            else if (c is >= 'A' and <= 'Z')
            {
                mapped = (char)(c + 32);
            }
            else if (c == '\u212A')
            {
                mapped = 'k';
            }
            else if (c == '\u0130')
            {
                mapped = 'i';
                endsRun = true; // followed by U+0307 COMBINING DOT ABOVE, a separator
            }
            else
            {
                Flush(run, tokens);
                continue;
            }

            run.Append(mapped);
            if (endsRun)
            {
                Flush(run, tokens);
            }
        }

        Flush(run, tokens);
        return tokens;
    }

    private static void Flush(System.Text.StringBuilder run, List<string> tokens)
    {
        if (run.Length > 0)
        {
            tokens.Add(run.ToString());
            run.Clear();
        }
    }
}
