using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Alpaca.Generator.Export;

/// <summary>
/// Writes JSON byte for byte as Python's <c>json.dump(obj, f, indent=4)</c> does (the reference's
/// <c>utils.jdump</c>, and how the released alpaca_data.json was written): 4-space indent, <c>", "</c> /
/// <c>": "</c> separators reduced to <c>","</c> + newline with indent, <c>ensure_ascii</c> (everything
/// outside space..tilde as lower-case <c>\uXXXX</c>, astral characters as surrogate pairs), floats as
/// Python's <c>repr</c>, empty containers as <c>[]</c>/<c>{}</c>, no trailing newline.
/// </summary>
public static class PythonJson
{
    public static string Serialize(JsonNode? node, int indent = 4)
    {
        var sb = new StringBuilder();
        Write(sb, node, indent, 0);
        return sb.ToString();
    }

    public static void Write(StringBuilder sb, JsonNode? node, int indent, int depth)
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
                    WriteString(sb, key);
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
            WriteString(sb, s);
        }
        else if (value.TryGetValue<bool>(out var b))
        {
            sb.Append(b ? "true" : "false");
        }
        else if (value.TryGetValue<double>(out var d) && !value.TryGetValue<long>(out _))
        {
            sb.Append(FloatRepr(d));
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

    /// <summary><c>json.encoder.py_encode_basestring_ascii</c>.</summary>
    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c is >= ' ' and <= '~')
                    {
                        sb.Append(c);
                    }
                    else
                    {
                        // UTF-16 units are exactly the \uXXXX pairs Python writes for astral characters.
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary>
    /// Python's <c>repr(float)</c>: the shortest round-trip digits (the same digits .NET's "R" gives),
    /// laid out fixed when the decimal exponent is in [-4, 16), else as <c>d.ddde±XX</c>; integral values get ".0".
    /// </summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }

        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var (digits, decpt) = Decompose(shortest);
        var sign = d < 0 ? "-" : "";
        if (decpt is > -4 and <= 16)
        {
            if (decpt <= 0)
            {
                return sign + "0." + new string('0', -decpt) + digits;
            }

            if (decpt < digits.Length)
            {
                return sign + digits[..decpt] + "." + digits[decpt..];
            }

            return sign + digits + new string('0', decpt - digits.Length) + ".0";
        }

        var exponent = decpt - 1;
        var mantissa = digits.Length == 1 ? digits : digits[..1] + "." + digits[1..];
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>Significant digits (no leading/trailing zeros) and decimal point position: value = 0.DIGITS × 10^decpt.</summary>
    private static (string Digits, int Decpt) Decompose(string roundTrip)
    {
        var s = roundTrip.TrimStart('-');
        var exponent = 0;
        var e = s.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..e];
        }

        var dot = s.IndexOf('.');
        var intPart = dot >= 0 ? s[..dot] : s;
        var fracPart = dot >= 0 ? s[(dot + 1)..] : "";
        var all = intPart + fracPart;
        var decpt = intPart.Length + exponent;
        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        all = all[leading..];
        decpt -= leading;
        return (all.TrimEnd('0') is { Length: > 0 } trimmed ? trimmed : "0", decpt);
    }
}
