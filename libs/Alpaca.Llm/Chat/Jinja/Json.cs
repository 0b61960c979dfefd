using System.Globalization;
using System.Text;

namespace Alpaca.Llm.Chat.Jinja;

internal sealed record JsonOptions(int? Indent = null, bool EnsureAscii = false, bool SortKeys = false, (string Item, string Key)? Separators = null);

/// <summary>
/// <c>tojson</c> exactly as the oracle writes it: Python's json.dumps separators (", " and ": ", or "," with an
/// indent), JavaScript's JSON.stringify escaping for strings and numbers, insertion order unless sort_keys.
/// </summary>
internal static class Json
{
    public static string Write(Value input, JsonOptions options, int depth, bool convertUndefinedToNull = true)
    {
        var (itemSep, keySep) = options.Separators ?? (options.Indent is > 0 ? (",", ": ") : (", ", ": "));
        switch (input)
        {
            case NullValue:
                return "null";
            case UndefinedValue:
                return convertUndefinedToNull ? "null" : "undefined";
            case IntValue i:
                return i.Value.ToString(CultureInfo.InvariantCulture);
            case FloatValue f:
                return double.IsFinite(f.Value) ? FloatValue.JsNumber(f.Value) : "null";
            case BoolValue b:
                return b.Value ? "true" : "false";
            case StringValue s:
                return Quote(s.Value, options.EnsureAscii);
            case TupleValue:
                throw new JinjaException("Cannot convert to JSON: TupleValue"); // the oracle's rule (printing a tuple fails too)
            case ArrayValue or ObjectValue or NamespaceValue:
                {
                    var indent = options.Indent is > 0 ? new string(' ', options.Indent.Value) : "";
                    var basePadding = "\n" + string.Concat(Enumerable.Repeat(indent, depth));
                    var childPadding = basePadding + indent;
                    if (input is ArrayValue a)
                    {
                        var core = a.Items.Select(x => Write(x, options, depth + 1, convertUndefinedToNull)).ToList();
                        return options.Indent is > 0 && core.Count > 0
                            ? $"[{childPadding}{string.Join(itemSep + childPadding, core)}{basePadding}]"
                            : $"[{string.Join(itemSep, core)}]";
                    }

                    IEnumerable<KeyValuePair<string, Value>> entries = input is ObjectValue o ? o.Entries : ((NamespaceValue)input).Entries;
                    if (options.SortKeys)
                    {
                        // JavaScript's localeCompare; the invariant comparer agrees with it on the ASCII keys templates use.
                        entries = entries.OrderBy(e => e.Key, StringComparer.InvariantCulture);
                    }

                    var parts = entries.Select(e =>
                    {
                        var v = $"{Quote(e.Key, options.EnsureAscii)}{keySep}{Write(e.Value, options, depth + 1, convertUndefinedToNull)}";
                        return options.Indent is > 0 ? childPadding + v : v;
                    }).ToList();
                    return options.Indent is > 0 && parts.Count > 0 ? $"{{{string.Join(itemSep, parts)}{basePadding}}}" : $"{{{string.Join(itemSep, parts)}}}";
                }

            default:
                throw new JinjaException($"Cannot convert to JSON: {input.TypeName}");
        }
    }

    /// <summary>JSON.stringify of a string (lone surrogates escaped), then optionally every char from U+007F up as \uXXXX.</summary>
    public static string Quote(string s, bool ensureAscii)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    var lone = (char.IsHighSurrogate(c) && (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])))
                        || (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1])));
                    if (c < 0x20 || lone || (ensureAscii && c >= 0x7f))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}
