using System.Globalization;
using System.Text;

namespace Alpaca.Reference;

/// <summary>The string and number text of Python's <c>json</c> module: what it writes for one str or float, and how it reads one string token.</summary>
public static partial class PyJson
{
    /// <summary>
    /// <c>json.dumps(s, ensure_ascii=...)</c> of one string, appended with its quotes. With <c>ensure_ascii</c>
    /// (<c>py_encode_basestring_ascii</c>) everything outside space..tilde is a lower-case <c>\uXXXX</c>
    /// (astral characters as their surrogate pair, exactly the UTF-16 units). Without it
    /// (<c>py_encode_basestring</c>) only quotes, backslashes and U+0000–U+001F are escaped, with one
    /// departure: a lone surrogate is written as <c>\uXXXX</c> (as <c>ensure_ascii</c> writes it), since UTF-8
    /// cannot hold it and Python would fail writing it to a UTF-8 file.
    /// </summary>
    public static void EncodeString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case < ' ':
                    Escape(sb, c);
                    break;
                case <= '~':
                    sb.Append(c);
                    break;
                default:
                    if (ensureAscii)
                    {
                        Escape(sb, c);
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        sb.Append(c).Append(s[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        Escape(sb, c);
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary><see cref="EncodeString(StringBuilder, string, bool)"/> as a new string.</summary>
    public static string EncodeString(string s, bool ensureAscii)
    {
        var sb = new StringBuilder(s.Length + 2);
        EncodeString(sb, s, ensureAscii);
        return sb.ToString();
    }

    /// <summary>What <c>json.dumps</c> writes for a float (its <c>floatstr</c>): <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>, else <c>repr</c>.</summary>
    public static string Float(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyFloat.Repr(d);

    /// <summary>
    /// <c>json.loads</c> of one string token (UTF-8, with its quotes) that a JSON reader has already validated.
    /// As in Python, <c>\uXXXX</c> escapes give UTF-16 units as they are, lone surrogates included
    /// (System.Text.Json refuses those). Invalid UTF-8 bytes become U+FFFD, where Python would refuse the file.
    /// </summary>
    public static string DecodeString(ReadOnlySpan<byte> token)
    {
        var body = token[1..^1];
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

            var escape = body[slash + 1];
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
            body = body[(slash + (escape == (byte)'u' ? 6 : 2))..];
        }

        return text.ToString();
    }

    private static void Escape(StringBuilder sb, char c) => sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
}
