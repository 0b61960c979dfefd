using System.Text;

namespace Alpaca.Reference;

/// <summary>
/// Python's <c>str.format_map(mapping)</c> for templates whose fields are plain names (<c>{instruction}</c>),
/// as stanford_alpaca's <c>PROMPT_DICT</c> uses it. The template is scanned once, left to right: a
/// substituted value is never scanned again, so a value that itself contains <c>{input}</c> stays literal.
/// <c>{{</c> and <c>}}</c> are literal braces. What Python would refuse is refused with Python's message:
/// a field missing from the mapping (<c>KeyError</c>), a lone <c>}</c> or an unclosed <c>{</c>
/// (<c>ValueError</c>). Fields with a conversion, a format spec, an index or an attribute are outside what
/// our templates use and are refused rather than approximated.
/// </summary>
public static class PyFormat
{
    public static string FormatMap(string template, IReadOnlyDictionary<string, string> mapping)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(mapping);
        var output = new StringBuilder(template.Length + 64);
        var i = 0;
        while (i < template.Length)
        {
            var c = template[i];
            if (c == '{')
            {
                if (i + 1 < template.Length && template[i + 1] == '{')
                {
                    output.Append('{');
                    i += 2;
                    continue;
                }

                var close = template.IndexOf('}', i + 1);
                if (close < 0)
                {
                    throw new FormatException("ValueError: expected '}' before end of string");
                }

                var name = template[(i + 1)..close];
                if (name.IndexOfAny(['{', '!', ':', '[', '.']) >= 0)
                {
                    throw new FormatException($"Unsupported replacement field '{{{name}}}': only plain names are supported.");
                }

                if (name.Length == 0 || char.IsDigit(name[0]))
                {
                    throw new FormatException($"Unsupported replacement field '{{{name}}}': positional fields need format(), not format_map().");
                }

                if (!mapping.TryGetValue(name, out var value))
                {
                    throw new KeyNotFoundException($"KeyError: '{name}'");
                }

                output.Append(value);
                i = close + 1;
            }
            else if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}')
                {
                    output.Append('}');
                    i += 2;
                    continue;
                }

                throw new FormatException("ValueError: Single '}' encountered in format string");
            }
            else
            {
                output.Append(c);
                i++;
            }
        }

        return output.ToString();
    }
}
