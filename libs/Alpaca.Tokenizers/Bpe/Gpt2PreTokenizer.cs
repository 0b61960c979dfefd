namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// GPT-2's pre-tokenizer regex, matched by hand as llama.cpp does:
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)</c> (plus \s+ for trailing space).
/// </summary>
internal sealed class Gpt2PreTokenizer : PreTokenizer
{
    protected override IEnumerable<(int Start, int End)> SplitCodepoints(Scanner s)
    {
        var end = s.End;
        var pos = s.Start;
        var prevEnd = pos;
        while (pos < end)
        {
            var cpt = s.Cpt(pos);

            // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive in GPT-2)
            if (cpt == '\'' && pos + 1 < end)
            {
                var next = s.Cpt(pos + 1);
                if (next is 's' or 't' or 'm' or 'd')
                {
                    pos += 2;
                    yield return (prevEnd, prevEnd = pos);
                    continue;
                }

                if (pos + 2 < end)
                {
                    var nextNext = s.Cpt(pos + 2);
                    if ((next == 'r' && nextNext == 'e') || (next == 'v' && nextNext == 'e') || (next == 'l' && nextNext == 'l'))
                    {
                        pos += 3;
                        yield return (prevEnd, prevEnd = pos);
                        continue;
                    }
                }
            }

            var probe = cpt == ' ' ? pos + 1 : pos;
            if (s.IsLetter(probe) || s.IsNumber(probe) || s.IsOther(probe))
            {
                // ' ?\p{L}+', ' ?\p{N}+' or ' ?[^\s\p{L}\p{N}]+': one class, repeated
                Func<int, bool> same = s.IsLetter(probe) ? s.IsLetter : s.IsNumber(probe) ? s.IsNumber : s.IsOther;
                pos = probe;
                while (same(pos))
                {
                    pos++;
                }

                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            var whitespaces = 0;
            while (s.IsWhitespace(pos + whitespaces))
            {
                whitespaces++;
            }

            // \s+(?!\S)
            if (whitespaces > 1 && s.InRange(pos + whitespaces))
            {
                pos += whitespaces - 1;
                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            if (whitespaces > 0)
            {
                pos += whitespaces;
                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            pos++;
            yield return (prevEnd, prevEnd = pos);
        }
    }
}
