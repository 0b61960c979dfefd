using System.Text;

namespace Alpaca.Llm.Chat.Jinja;

internal enum TokenType
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveBinaryOperator,
    MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator,
    ComparisonBinaryOperator,
    UnaryOperator,
    Comment,
}

internal sealed class Token(string value, TokenType type, SourcePos pos)
{
    public string Value { get; set; } = value;

    public TokenType Type { get; } = type;

    public SourcePos Pos { get; } = pos;
}

/// <summary>
/// The tokenizer of @huggingface/jinja (the oracle), ported rule for rule: the same preprocessing
/// (trailing newline dropped, lstrip_blocks and trim_blocks on as transformers sets them,
/// <c>{% generation %}</c> tags removed), the same whitespace control and operator table. Unlike the
/// oracle it keeps, for every character of the preprocessed text, its offset in the template as written, so
/// errors name the original line and column.
/// </summary>
internal static class Lexer
{
    private static readonly (string Seq, TokenType Type)[] Operators =
    [
        ("{%", TokenType.OpenStatement), ("%}", TokenType.CloseStatement), ("{{", TokenType.OpenExpression), ("}}", TokenType.CloseExpression),
        ("(", TokenType.OpenParen), (")", TokenType.CloseParen), ("{", TokenType.OpenCurlyBracket), ("}", TokenType.CloseCurlyBracket),
        ("[", TokenType.OpenSquareBracket), ("]", TokenType.CloseSquareBracket), (",", TokenType.Comma), (".", TokenType.Dot),
        (":", TokenType.Colon), ("|", TokenType.Pipe), ("<=", TokenType.ComparisonBinaryOperator), (">=", TokenType.ComparisonBinaryOperator),
        ("==", TokenType.ComparisonBinaryOperator), ("!=", TokenType.ComparisonBinaryOperator), ("<", TokenType.ComparisonBinaryOperator),
        (">", TokenType.ComparisonBinaryOperator), ("+", TokenType.AdditiveBinaryOperator), ("-", TokenType.AdditiveBinaryOperator),
        ("~", TokenType.AdditiveBinaryOperator), ("**", TokenType.ExponentiationBinaryOperator), ("*", TokenType.MultiplicativeBinaryOperator),
        ("//", TokenType.MultiplicativeBinaryOperator), ("/", TokenType.MultiplicativeBinaryOperator), ("%", TokenType.MultiplicativeBinaryOperator),
        ("=", TokenType.Equals),
    ];

    public static bool IsWord(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    public static bool IsWhitespace(char c) => c <= 32
        ? c == 32 || c is >= (char)9 and <= (char)13
        : c > 127 && (c == 160 || c == 5760 || c is >= (char)8192 and <= (char)8202 || c == 8232 || c == 8233 || c == 8239 || c == 8287 || c == 12288 || c == 65279);

    public static List<Token> Tokenize(string source)
    {
        var (src, offsets) = Preprocess(source);
        var lines = LineStarts(source);
        SourcePos PosOf(int i) => Position(lines, i < offsets.Count ? offsets[i] : source.Length);
        JinjaException Error(string message, int at) { var p = PosOf(at); return new JinjaException(message, p.Line, p.Column); }

        var tokens = new List<Token>();
        var length = src.Length;
        var cursor = 0;
        var curlyDepth = 0;

        char At(int i) => i < length ? src[i] : '\0';
        string ConsumeWhile(Func<char, bool> predicate)
        {
            var start = cursor;
            while (predicate(At(cursor)))
            {
                if (++cursor >= length)
                {
                    throw Error("Unexpected end of input", start);
                }
            }

            return src[start..cursor];
        }

        string ConsumeString(char quote, int open)
        {
            var sb = new StringBuilder();
            while (true)
            {
                if (cursor >= length)
                {
                    throw Error("Unexpected end of input: unterminated string", open);
                }

                var c = src[cursor];
                if (c == quote)
                {
                    return sb.ToString();
                }

                ++cursor;
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                if (cursor >= length)
                {
                    throw Error("Unexpected end of input: unterminated string", open);
                }

                var escaped = src[cursor++];
                if (escaped is 'x' or 'u')
                {
                    var n = escaped == 'x' ? 2 : 4;
                    var hex = cursor + n <= length ? src.Substring(cursor, n) : src[cursor..];
                    if (hex.Length != n || !hex.All(Uri.IsHexDigit))
                    {
                        throw Error($"Invalid hexadecimal escape sequence: \\{escaped}{hex}", cursor - 2);
                    }

                    sb.Append((char)Convert.ToInt32(hex, 16));
                    cursor += n;
                }
                else
                {
                    sb.Append(escaped switch
                    {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'b' => '\b',
                        'f' => '\f',
                        'v' => '\v',
                        '\'' or '"' or '\\' => escaped,
                        _ => throw Error($"Unexpected escaped character: {escaped}", cursor - 2),
                    });
                }
            }
        }

        void StripTrailingWhitespace()
        {
            if (tokens.Count > 0 && tokens[^1].Type == TokenType.Text)
            {
                tokens[^1].Value = tokens[^1].Value.TrimEnd();
                if (tokens[^1].Value.Length == 0)
                {
                    tokens.RemoveAt(tokens.Count - 1);
                }
            }
        }

        void SkipLeadingWhitespace()
        {
            while (cursor < length && IsWhitespace(src[cursor]))
            {
                ++cursor;
            }
        }

        while (cursor < length)
        {
            TokenType? last = tokens.Count > 0 ? tokens[^1].Type : null;
            if (last is null or TokenType.CloseStatement or TokenType.CloseExpression or TokenType.Comment)
            {
                var end = cursor;
                while (true)
                {
                    end = src.IndexOf('{', end);
                    if (end == -1)
                    {
                        end = length;
                        break;
                    }

                    if (At(end + 1) is '%' or '{' or '#')
                    {
                        break;
                    }

                    ++end;
                }

                if (end > cursor)
                {
                    tokens.Add(new Token(src[cursor..end], TokenType.Text, PosOf(cursor)));
                    cursor = end;
                    continue;
                }
            }

            if (src[cursor] == '{')
            {
                var next = At(cursor + 1);
                if (next == '#')
                {
                    var open = cursor;
                    cursor += 2;
                    var stripBefore = At(cursor) == '-';
                    if (stripBefore)
                    {
                        ++cursor;
                    }

                    var end = src.IndexOf("#}", cursor, StringComparison.Ordinal);
                    if (end == -1)
                    {
                        throw Error("Missing end of comment tag", open);
                    }

                    var comment = src[cursor..end];
                    var stripAfter = comment.EndsWith('-');
                    if (stripAfter)
                    {
                        comment = comment[..^1];
                    }

                    if (stripBefore)
                    {
                        StripTrailingWhitespace();
                    }

                    tokens.Add(new Token(comment, TokenType.Comment, PosOf(open)));
                    cursor = end + 2;
                    if (stripAfter)
                    {
                        SkipLeadingWhitespace();
                    }

                    continue;
                }

                if (At(cursor + 2) == '-' && next is '%' or '{')
                {
                    StripTrailingWhitespace();
                    tokens.Add(new Token(next == '%' ? "{%" : "{{", next == '%' ? TokenType.OpenStatement : TokenType.OpenExpression, PosOf(cursor)));
                    if (next == '{')
                    {
                        curlyDepth = 0;
                    }

                    cursor += 3;
                    continue;
                }
            }

            while (cursor < length && IsWhitespace(src[cursor]))
            {
                ++cursor;
            }

            if (cursor >= length)
            {
                throw Error("Unexpected end of input", length);
            }

            var ch = src[cursor];
            var here = PosOf(cursor);
            if (ch == '-' && At(cursor + 2) == '}' && At(cursor + 1) is '%' or '}')
            {
                var statement = At(cursor + 1) == '%';
                tokens.Add(new Token(statement ? "%}" : "}}", statement ? TokenType.CloseStatement : TokenType.CloseExpression, here));
                cursor += 3;
                SkipLeadingWhitespace();
                continue;
            }

            if (ch is '-' or '+')
            {
                if (last is null or TokenType.Text)
                {
                    throw Error($"Unexpected character: {ch}", cursor);
                }

                if (last is not (TokenType.Identifier or TokenType.NumericLiteral or TokenType.StringLiteral or TokenType.CloseParen or TokenType.CloseSquareBracket))
                {
                    ++cursor;
                    var num = ConsumeWhile(IsDigit);
                    if (num.Length > 0 && At(cursor) == '.' && IsDigit(At(cursor + 1)))
                    {
                        ++cursor;
                        num = $"{num}.{ConsumeWhile(IsDigit)}";
                    }

                    tokens.Add(new Token(ch + num, num.Length > 0 ? TokenType.NumericLiteral : TokenType.UnaryOperator, here));
                    continue;
                }
            }

            var matched = false;
            foreach (var (seq, type) in Operators)
            {
                if (seq[0] != ch || (seq == "}}" && curlyDepth > 0) || string.CompareOrdinal(src, cursor, seq, 0, seq.Length) != 0)
                {
                    continue;
                }

                tokens.Add(new Token(seq, type, here));
                curlyDepth = type switch
                {
                    TokenType.OpenExpression => 0,
                    TokenType.OpenCurlyBracket => curlyDepth + 1,
                    TokenType.CloseCurlyBracket => curlyDepth - 1,
                    _ => curlyDepth,
                };
                cursor += seq.Length;
                matched = true;
                break;
            }

            if (matched)
            {
                continue;
            }

            if (ch is '\'' or '"')
            {
                var open = cursor++;
                tokens.Add(new Token(ConsumeString(ch, open), TokenType.StringLiteral, here));
                ++cursor;
                continue;
            }

            if (IsDigit(ch))
            {
                var num = ConsumeWhile(IsDigit);
                if (last != TokenType.Dot && At(cursor) == '.' && IsDigit(At(cursor + 1)))
                {
                    ++cursor;
                    num = $"{num}.{ConsumeWhile(IsDigit)}";
                }

                tokens.Add(new Token(num, TokenType.NumericLiteral, here));
                continue;
            }

            if (IsWord(ch))
            {
                tokens.Add(new Token(ConsumeWhile(IsWord), TokenType.Identifier, here));
                continue;
            }

            throw Error($"Unexpected character: {ch}", cursor);
        }

        return tokens;
    }

    /// <summary>
    /// The oracle's preprocess step, done on (char, original offset) pairs: drop one trailing newline;
    /// lstrip_blocks (spaces and tabs before <c>{%</c>, <c>{#</c> or <c>{-</c> at a line start); trim_blocks (the
    /// newline after <c>%}</c>, <c>#}</c> or <c>-}</c>); remove <c>{% generation %}</c> / <c>{% endgeneration %}</c>
    /// tags (transformers' assistant-mask markers, which render nothing).
    /// </summary>
    internal static (string Text, List<int> Offsets) Preprocess(string template)
    {
        var chars = new List<(char C, int Off)>(template.Length);
        for (var i = 0; i < template.Length; i++)
        {
            chars.Add((template[i], i));
        }

        if (chars.Count > 0 && chars[^1].C == '\n')
        {
            chars.RemoveAt(chars.Count - 1);
        }

        // lstrip_blocks: /^[ \t]*({[#%-])/gm
        var lstripped = new List<(char C, int Off)>(chars.Count);
        var lineStart = 0;
        for (var i = 0; i <= chars.Count; i++)
        {
            if (i == chars.Count || chars[i].C == '\n')
            {
                var j = lineStart;
                while (j < i && chars[j].C is ' ' or '\t')
                {
                    j++;
                }

                var strip = j + 1 < chars.Count && chars[j].C == '{' && chars[j + 1].C is '#' or '%' or '-';
                for (var k = strip ? j : lineStart; k < i; k++)
                {
                    lstripped.Add(chars[k]);
                }

                if (i < chars.Count)
                {
                    lstripped.Add(chars[i]);
                }

                lineStart = i + 1;
            }
        }

        // trim_blocks: /([#%-]})\n/g
        var trimmed = new List<(char C, int Off)>(lstripped.Count);
        for (var i = 0; i < lstripped.Count; i++)
        {
            trimmed.Add(lstripped[i]);
            if (i >= 1 && lstripped[i].C == '}' && lstripped[i - 1].C is '#' or '%' or '-' && i + 1 < lstripped.Count && lstripped[i + 1].C == '\n')
            {
                i++;
            }
        }

        var text = new string([.. trimmed.Select(t => t.C)]);
        var offsets = trimmed.Select(t => t.Off).ToList();
        return RemoveGenerationTags(text, offsets);
    }

    private static readonly System.Text.RegularExpressions.Regex GenerationTag =
        new(@"{%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)", System.Text.RegularExpressions.RegexOptions.Singleline);

    private static (string, List<int>) RemoveGenerationTags(string text, List<int> offsets)
    {
        var sb = new StringBuilder(text.Length);
        var keep = new List<int>(offsets.Count);
        var last = 0;
        foreach (System.Text.RegularExpressions.Match m in GenerationTag.Matches(text))
        {
            var end = m.Index;
            while (m.Groups[1].Length > 0 && end > last && IsWhitespace(text[end - 1]))
            {
                --end;
            }

            sb.Append(text, last, end - last);
            keep.AddRange(offsets.GetRange(last, end - last));
            if (m.Groups[2].Length == 0)
            {
                sb.Append(m.Groups[3].Value);
                keep.AddRange(offsets.GetRange(m.Groups[3].Index, m.Groups[3].Length));
            }

            last = m.Index + m.Length;
        }

        sb.Append(text, last, text.Length - last);
        keep.AddRange(offsets.GetRange(last, text.Length - last));
        return (sb.ToString(), keep);
    }

    private static List<int> LineStarts(string source)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        return starts;
    }

    private static SourcePos Position(List<int> lineStarts, int offset)
    {
        var line = lineStarts.BinarySearch(offset);
        if (line < 0)
        {
            line = ~line - 1;
        }

        return new SourcePos(line + 1, offset - lineStarts[line] + 1);
    }
}
