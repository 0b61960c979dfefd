using System.Globalization;
using System.Text;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary>JSON string and number text, matching Python's <c>json</c> where it matters here.</summary>
public static class JsonText
{
    /// <summary>
    /// Decodes a raw JSON string token (with quotes). Escapes give UTF-16 units as they are, lone
    /// surrogates included; invalid UTF-8 bytes become U+FFFD.
    /// </summary>
    public static string Unquote(ReadOnlySpan<byte> raw)
    {
        var body = raw[1..^1];
        var text = new StringBuilder(body.Length);
        while (!body.IsEmpty)
        {
            var slash = body.IndexOf((byte)'\\');
            var plain = slash < 0 ? body : body[..slash];
            text.Append(Encoding.UTF8.GetString(plain));
            if (slash < 0)
            {
                break;
            }

            // The reader has validated the escapes already.
            var escape = body[slash + 1];
            var consumed = 2;
            text.Append(escape switch
            {
                (byte)'b' => '\b',
                (byte)'f' => '\f',
                (byte)'n' => '\n',
                (byte)'r' => '\r',
                (byte)'t' => '\t',
                (byte)'u' => (char)int.Parse(Encoding.ASCII.GetString(body.Slice(slash + 2, 4)), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                _ => (char)escape, // \" \\ \/
            });
            if (escape == (byte)'u')
            {
                consumed = 6;
            }

            body = body[(slash + consumed)..];
        }

        return text.ToString();
    }

    /// <summary>A JSON string literal: quotes, backslashes and control characters escaped, lone surrogates as \uXXXX, the rest as is.</summary>
    public static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var pairHigh = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
            if (pairHigh)
            {
                text.Append(c).Append(value[++i]);
                continue;
            }

            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case < ' ':
                case >= '\uD800' and <= '\uDFFF': // control characters and lone surrogates
                    text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }

        return text.Append('"').ToString();
    }

    /// <summary>A double as Python's <c>repr</c>/<c>json</c> writes it: shortest round-trip text, "1.0", "1e-05"; NaN as null.</summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            return "null"; // only an empty pool's mean; strict JSON has no NaN
        }

        var s = value.ToString("R", CultureInfo.InvariantCulture);
        var e = s.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            var exponent = int.Parse(s[(e + 1)..], CultureInfo.InvariantCulture);
            return $"{s[..e]}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }

        return s.Contains('.', StringComparison.Ordinal) ? s : s + ".0";
    }
}
