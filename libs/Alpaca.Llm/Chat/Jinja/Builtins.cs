using System.Text;
using System.Text.RegularExpressions;

namespace Alpaca.Llm.Chat.Jinja;

/// <summary>The Python-style methods templates call on strings and dicts (<c>.strip()</c>, <c>.split()</c>, <c>.items()</c>, <c>.get()</c>…), as the oracle defines them.</summary>
internal static partial class Builtins
{
    public static Value? OfString(StringValue s, string name)
    {
        var v = s.Value;
        return name switch
        {
            "upper" => Fn(_ => new StringValue(v.ToUpperInvariant())),
            "lower" => Fn(_ => new StringValue(v.ToLowerInvariant())),
            "strip" => Fn(_ => new StringValue(JsTrim(v))),
            "rstrip" => Fn(_ => new StringValue(JsTrimEnd(v))),
            "lstrip" => Fn(_ => new StringValue(JsTrimStart(v))),
            "title" => Fn(_ => new StringValue(TitleCase(v))),
            "capitalize" => Fn(_ => new StringValue(Capitalize(v))),
            "length" => new IntValue(v.Length),
            "startswith" => Fn(args => BoolValue.Of(Affix(v, args, "startswith", (x, p) => x.StartsWith(p, StringComparison.Ordinal)))),
            "endswith" => Fn(args => BoolValue.Of(Affix(v, args, "endswith", (x, p) => x.EndsWith(p, StringComparison.Ordinal)))),
            "split" => Fn(args => Split(v, args)),
            "replace" => Fn(args => Replace(v, args)),
            _ => null,
        };
    }

    public static Value? OfObject(ObjectValue o, string name) => name switch
    {
        "get" => Fn(args =>
        {
            if (args.Count == 0 || args[0] is not StringValue key)
            {
                throw Interpreter.Fail($"Object key must be a string: got {(args.Count == 0 ? "UndefinedValue" : args[0].TypeName)}");
            }

            return o.Entries.TryGetValue(key.Value, out var v) ? v : args.Count > 1 ? args[1] : NullValue.Instance;
        }),
        "items" => Fn(_ => Items(o)),
        "keys" => Fn(_ => new ArrayValue([.. o.Entries.Keys.Select(k => (Value)new StringValue(k))])),
        "values" => Fn(_ => new ArrayValue([.. o.Entries.Values])),
        _ => null,
    };

    public static ArrayValue Items(ObjectValue o) =>
        new([.. o.Entries.Select(e => (Value)new ArrayValue([new StringValue(e.Key), e.Value]))]);

    private static FunctionValue Fn(Func<List<Value>, Value> f) => new((args, _) => f(args));

    // JavaScript's String.prototype.trim whitespace set (the lexer's), not .NET's.
    public static string JsTrim(string s) => JsTrimEnd(JsTrimStart(s));

    public static string JsTrimStart(string s)
    {
        var i = 0;
        while (i < s.Length && Lexer.IsWhitespace(s[i]))
        {
            i++;
        }

        return s[i..];
    }

    public static string JsTrimEnd(string s)
    {
        var i = s.Length;
        while (i > 0 && Lexer.IsWhitespace(s[i - 1]))
        {
            i--;
        }

        return s[..i];
    }

    // /\b\w/g upper-cased: the first ASCII word character after a non-word one.
    public static string TitleCase(string s)
    {
        var sb = new StringBuilder(s);
        for (var i = 0; i < sb.Length; i++)
        {
            if (Lexer.IsWord(sb[i]) && (i == 0 || !Lexer.IsWord(sb[i - 1])))
            {
                sb[i] = char.ToUpperInvariant(sb[i]);
            }
        }

        return sb.ToString();
    }

    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static bool Affix(string v, List<Value> args, string name, Func<string, string, bool> test)
    {
        if (args.Count == 0)
        {
            throw Interpreter.Fail($"{name}() requires at least one argument");
        }

        switch (args[0])
        {
            case StringValue p:
                return test(v, p.Value);
            case ArrayValue a:
                foreach (var item in a.Items)
                {
                    if (item is not StringValue sp)
                    {
                        throw Interpreter.Fail($"{name}() tuple elements must be strings");
                    }

                    if (test(v, sp.Value))
                    {
                        return true;
                    }
                }

                return false;
            default:
                throw Interpreter.Fail($"{name}() argument must be a string or tuple of strings");
        }
    }

    [GeneratedRegex(@"\S+")]
    private static partial Regex NonSpace();

    private static ArrayValue Split(string v, List<Value> args)
    {
        var sep = args.Count > 0 ? args[0] : NullValue.Instance;
        var maxArg = args.Count > 1 ? args[1] : new IntValue(-1);
        if (sep is not (StringValue or NullValue))
        {
            throw Interpreter.Fail("sep argument must be a string or null");
        }

        if (maxArg is not IntValue maxsplit)
        {
            throw Interpreter.Fail("maxsplit argument must be a number");
        }

        var result = new List<string>();
        if (sep is NullValue)
        {
            var text = JsTrimStart(v);
            foreach (Match m in NonSpace().Matches(text))
            {
                if (maxsplit.Value >= 0 && result.Count >= maxsplit.Value)
                {
                    result.Add(m.Value + text[(m.Index + m.Length)..]);
                    break;
                }

                result.Add(m.Value);
            }
        }
        else
        {
            var s = ((StringValue)sep).Value;
            if (s.Length == 0)
            {
                throw Interpreter.Fail("empty separator");
            }

            result = [.. v.Split(s)];
            if (maxsplit.Value >= 0 && result.Count > maxsplit.Value)
            {
                var rest = string.Join(s, result.Skip((int)maxsplit.Value));
                result = [.. result.Take((int)maxsplit.Value), rest];
            }
        }

        return new ArrayValue([.. result.Select(p => (Value)new StringValue(p))]);
    }

    public static StringValue Replace(string v, List<Value> args)
    {
        if (args.Count < 2)
        {
            throw Interpreter.Fail("replace() requires at least two arguments");
        }

        if (args[0] is not StringValue oldValue || args[1] is not StringValue newValue)
        {
            throw Interpreter.Fail("replace() arguments must be strings");
        }

        var count = args.Count > 2 ? args[2] is KeywordArgs kw ? kw.Entries.GetValueOrDefault("count") ?? NullValue.Instance : args[2] : NullValue.Instance;
        if (count is not (IntValue or NullValue))
        {
            throw Interpreter.Fail("replace() count argument must be a number or null");
        }

        var remaining = count is IntValue c && c.Value >= 0 ? c.Value : long.MaxValue;
        if (remaining == 0)
        {
            return new StringValue(v);
        }

        if (oldValue.Value.Length == 0)
        {
            // JavaScript's /(?=)/gu: an insertion before every code point and at the end.
            var sb = new StringBuilder();
            for (var i = 0; i <= v.Length; i++)
            {
                if (remaining > 0)
                {
                    sb.Append(newValue.Value);
                    remaining--;
                }

                if (i < v.Length)
                {
                    sb.Append(v[i]);
                    if (char.IsHighSurrogate(v[i]) && i + 1 < v.Length && char.IsLowSurrogate(v[i + 1]))
                    {
                        sb.Append(v[++i]);
                    }
                }
            }

            return new StringValue(sb.ToString());
        }

        var output = new StringBuilder();
        var pos = 0;
        while (remaining > 0)
        {
            var at = v.IndexOf(oldValue.Value, pos, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            output.Append(v, pos, at - pos).Append(newValue.Value);
            pos = at + oldValue.Value.Length;
            remaining--;
        }

        return new StringValue(output.Append(v, pos, v.Length - pos).ToString());
    }
}
