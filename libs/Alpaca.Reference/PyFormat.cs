using System.Text;

namespace Alpaca.Reference;

/// <summary>
/// Python's <c>str.format_map(mapping)</c> for templates whose fields are plain names (<c>{instruction}</c>),
/// as stanford_alpaca's <c>PROMPT_DICT</c> uses it. The template is scanned once, left to right, as
/// CPython's <c>MarkupIterator</c> scans it: a substituted value is never scanned again, so a value that
/// itself contains <c>{input}</c> stays literal. <c>{{</c> and <c>}}</c> are literal braces. What Python
/// refuses is refused with Python's message: a name missing from the mapping (<c>KeyError</c>), a lone
/// brace, an unclosed field, a '{' in a field name, a positional field (<c>ValueError</c>). Fields with a
/// conversion, a format spec, an index or an attribute are outside what our templates use and are refused
/// rather than approximated.
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
            var doubled = i + 1 < template.Length && template[i + 1] == c;
            if (c == '}')
            {
                if (!doubled)
                {
                    throw new FormatException("ValueError: Single '}' encountered in format string");
                }

                output.Append('}');
                i += 2;
            }
            else if (c == '{')
            {
                if (i + 1 == template.Length)
                {
                    throw new FormatException("ValueError: Single '{' encountered in format string");
                }

                if (doubled)
                {
                    output.Append('{');
                    i += 2;
                    continue;
                }

                var end = FieldEnd(template, i + 1);
                output.Append(Lookup(template[(i + 1)..end], mapping));
                i = end + 1;
            }
            else
            {
                output.Append(c);
                i++;
            }
        }

        return output.ToString();
    }

    /// <summary>The position of the '}' that closes the field whose name starts at <paramref name="start"/> (CPython's <c>parse_field</c>).</summary>
    private static int FieldEnd(string template, int start)
    {
        for (var j = start; j < template.Length; j++)
        {
            switch (template[j])
            {
                case '{':
                    throw new FormatException("ValueError: unexpected '{' in field name");
                case '}':
                    return j;
                case ':' or '!' or '[':
                    throw new FormatException($"Unsupported replacement field at {start - 1}: conversions, format specs and indexes are not supported.");
            }
        }

        throw new FormatException("ValueError: expected '}' before end of string");
    }

    private static string Lookup(string name, IReadOnlyDictionary<string, string> mapping)
    {
        if (name.Contains('.'))
        {
            throw new FormatException($"Unsupported replacement field '{{{name}}}': attributes are not supported.");
        }

        // An empty name or one of decimal digits only is positional (an index into format()'s args), which format_map has none of.
        if (name.Length == 0 || name.EnumerateRunes().All(Rune.IsDigit))
        {
            throw new FormatException("ValueError: Format string contains positional fields");
        }

        return mapping.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"KeyError: '{name}'");
    }
}
