namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// Llama-3's pre-tokenizer regex, matched by hand as llama.cpp does:
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>.
/// </summary>
internal sealed class Llama3PreTokenizer : PreTokenizer
{
    protected override IEnumerable<(int Start, int End)> SplitCodepoints(Scanner s)
    {
        var end = s.End;
        var pos = s.Start;
        var prevEnd = pos;
        while (pos < end)
        {
            var cpt = s.Cpt(pos);

            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if (cpt == '\'' && pos + 1 < end)
            {
                var next = CodepointClass.ToLower(s.Cpt(pos + 1));
                if (next is 's' or 't' or 'm' or 'd')
                {
                    pos += 2;
                    yield return (prevEnd, prevEnd = pos);
                    continue;
                }

                if (pos + 2 < end)
                {
                    var nextNext = CodepointClass.ToLower(s.Cpt(pos + 2));
                    if ((next == 'r' && nextNext == 'e') || (next == 'v' && nextNext == 'e') || (next == 'l' && nextNext == 'l'))
                    {
                        pos += 3;
                        yield return (prevEnd, prevEnd = pos);
                        continue;
                    }
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!(cpt == '\r' || cpt == '\n' || s.IsNumber(pos)) && (s.IsLetter(pos) || s.IsLetter(pos + 1)))
            {
                pos++;
                while (s.IsLetter(pos))
                {
                    pos++;
                }

                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            // \p{N}{1,3}
            if (s.IsNumber(pos))
            {
                var first = pos;
                while (s.IsNumber(pos))
                {
                    if (++pos - first >= 3)
                    {
                        yield return (prevEnd, prevEnd = pos);
                        first = pos;
                    }
                }

                if (pos > prevEnd)
                {
                    yield return (prevEnd, prevEnd = pos);
                }

                continue;
            }

            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            var probe = cpt == ' ' ? pos + 1 : pos;
            if (s.IsOther(probe))
            {
                pos = probe;
                while (s.IsOther(pos))
                {
                    pos++;
                }

                while (s.Cpt(pos) is '\r' or '\n')
                {
                    pos++;
                }

                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            var whitespaces = 0;
            var lastLineBreakEnd = 0;
            while (s.IsWhitespace(pos + whitespaces))
            {
                if (s.Cpt(pos + whitespaces) is '\r' or '\n')
                {
                    lastLineBreakEnd = pos + whitespaces + 1;
                }

                whitespaces++;
            }

            // \s*[\r\n]+
            if (lastLineBreakEnd > 0)
            {
                pos = lastLineBreakEnd;
                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            // \s+(?!\S): leave the last space to start the next word
            if (whitespaces > 1 && s.InRange(pos + whitespaces))
            {
                pos += whitespaces - 1;
                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            // \s+
            if (whitespaces > 0)
            {
                pos += whitespaces;
                yield return (prevEnd, prevEnd = pos);
                continue;
            }

            // no match: a single code point on its own
            pos++;
            yield return (prevEnd, prevEnd = pos);
        }
    }
}
