using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Alpaca.Reference;

/// <summary>
/// Python's <c>json.dumps(obj, indent=4)</c> byte for byte (the reference's <c>utils.jdump</c> is
/// <c>json.dump(obj, f, indent=4)</c>, which is how the released alpaca_data.json was written): items on
/// their own lines, <c>","</c> and <c>": "</c> separators, <c>ensure_ascii</c>, floats as Python's <c>repr</c>,
/// empty containers as <c>[]</c>/<c>{}</c>, no trailing newline. The string and number pieces are in
/// <c>PyJsonText.cs</c>.
/// </summary>
public static partial class PyJson
{
    public static string Dumps(JsonNode? node, int indent = 4)
    {
        var sb = new StringBuilder();
        Write(sb, node, indent, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, int indent, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }

                sb.Append('{');
                var firstKey = true;
                foreach (var (key, value) in obj)
                {
                    sb.Append(firstKey ? "" : ",");
                    NewLine(sb, indent, depth + 1);
                    EncodeString(sb, key, ensureAscii: true);
                    sb.Append(": ");
                    Write(sb, value, indent, depth + 1);
                    firstKey = false;
                }

                NewLine(sb, indent, depth);
                sb.Append('}');
                break;
            case JsonArray array:
                if (array.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }

                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    sb.Append(i == 0 ? "" : ",");
                    NewLine(sb, indent, depth + 1);
                    Write(sb, array[i], indent, depth + 1);
                }

                NewLine(sb, indent, depth);
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
            default:
                throw new NotSupportedException($"JSON node {node.GetType().Name}");
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        if (value.TryGetValue<string>(out var s))
        {
            EncodeString(sb, s, ensureAscii: true);
        }
        else if (value.TryGetValue<bool>(out var b))
        {
            sb.Append(b ? "true" : "false");
        }
        else if (value.TryGetValue<double>(out var d) && !value.TryGetValue<long>(out _))
        {
            // A double stays a Python float ("1.0"); a parsed integer literal stays an int ("1").
            sb.Append(Float(d));
        }
        else if (value.TryGetValue<long>(out var l))
        {
            sb.Append(l.ToString(CultureInfo.InvariantCulture));
        }
        else if (value.TryGetValue<int>(out var i))
        {
            sb.Append(i.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            throw new NotSupportedException($"JSON value {value.ToJsonString()}");
        }
    }

    private static void NewLine(StringBuilder sb, int indent, int depth) => sb.Append('\n').Append(' ', indent * depth);
}
