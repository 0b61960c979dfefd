using Alpaca.Llm.Tokenizers;

namespace Alpaca.Tokenizers.Text;

/// <summary>
/// Cuts special-token texts out of the input before the model's tokenizer runs, exactly as llama.cpp's
/// <c>tokenizer_st_partition</c>: special tokens are tried longest text first, each over every remaining
/// text fragment, left to right. Control and unknown tokens are matched only with parseSpecial; user-defined
/// tokens always (HF added tokens are pre-tokenized before everything else).
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly (int Id, string Text, bool ControlOrUnknown)[] _specials;

    public SpecialTokenSplitter(TokenTable table)
    {
        var specials = new List<(int, string, bool)>();
        for (var id = 0; id < table.Count; id++)
        {
            var type = table.Types[id];
            if (type is TokenType.Control or TokenType.Unknown or TokenType.UserDefined)
            {
                specials.Add((id, table.Texts[id], type != TokenType.UserDefined));
            }
        }

        // llama.cpp sorts by text length, longest first (std::sort: ties unordered); ties go by id here.
        _specials = specials.OrderByDescending(s => s.Item2.Length).ThenBy(s => s.Item1).ToArray();
    }

    public List<Fragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0)
        {
            return fragments;
        }

        fragments.Add(Fragment.OfText(0, text.Length));
        foreach (var (id, tokenText, controlOrUnknown) in _specials)
        {
            if (controlOrUnknown && !parseSpecial)
            {
                continue;
            }

            if (!Contains(text, fragments, tokenText))
            {
                continue;
            }

            var next = new List<Fragment>(fragments.Count + 2);
            foreach (var fragment in fragments)
            {
                if (!fragment.IsText)
                {
                    next.Add(fragment);
                    continue;
                }

                var start = fragment.Start;
                var end = fragment.Start + fragment.Length;
                while (start < end)
                {
                    var match = text.AsSpan(start, end - start).IndexOf(tokenText, StringComparison.Ordinal);
                    if (match < 0)
                    {
                        next.Add(Fragment.OfText(start, end - start));
                        break;
                    }

                    if (match > 0)
                    {
                        next.Add(Fragment.OfText(start, match));
                    }

                    next.Add(Fragment.OfToken(id));
                    start += match + tokenText.Length;
                }
            }

            fragments = next;
        }

        return fragments;
    }

    private static bool Contains(string text, List<Fragment> fragments, string tokenText)
    {
        foreach (var f in fragments)
        {
            if (f.IsText && f.Length >= tokenText.Length && text.AsSpan(f.Start, f.Length).Contains(tokenText, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
