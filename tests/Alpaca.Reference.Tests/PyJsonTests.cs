using System.Text;
using System.Text.Json.Nodes;
using Alpaca.Reference.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Reference.Tests;

/// <summary><c>json.dumps</c> and <c>json.loads</c> against Python's own.</summary>
public sealed class PyJsonTests
{
    private static List<string> Strings() => [.. TrickyStrings.EveryCodePoint(251), .. TrickyStrings.Make(5, 3000, 24)];

    [Fact]
    public void Ascii_strings_equal_pythons_json_dumps_for_every_bmp_code_point()
    {
        var strings = Strings();
        var python = Python.Run("for h in lines: emit(json.dumps(s_in(h)))", strings.Select(Python.Hex));
        Mismatches.AssertNone(strings, python, s => PyJson.EncodeString(s, ensureAscii: true), Python.Hex);
    }

    [Fact]
    public void Non_ascii_strings_equal_pythons_json_dumps_with_lone_surrogates_escaped()
    {
        // The one departure: a lone surrogate, which Python keeps and then cannot write as UTF-8, is escaped
        // as ensure_ascii escapes it.
        var strings = Strings();
        var python = Python.Run("""
            lone = re.compile('[\ud800-\udfff]')
            for h in lines: emit(s_out(lone.sub(lambda m: '\\u%04x' % ord(m.group()), json.dumps(s_in(h), ensure_ascii=False))))
            """, strings.Select(Python.Hex));
        Mismatches.AssertNone(strings, python, s => Python.Hex(PyJson.EncodeString(s, ensureAscii: false)), Python.Hex);
    }

    [Fact]
    public void Decoding_a_string_token_equals_pythons_json_loads()
    {
        var tokens = new List<string>
        {
            "\"plain\"", "\"a\\ud800b\"", "\"\\udc00\\ud83d\\ude42\"", "\"tab\\tquote\\\"slash\\/back\\\\\"", "\"caf\u00e9 \\u00E9\\u00e9\"",
            "\"\\b\\f\\n\\r\\t\\u0000\\u001f\"", "\"\\uD83D\\uDE42 \uD83D\uDE42\"", "\"\\ud83d\"", "\"\"",
        };
        foreach (var s in TrickyStrings.Make(6, 2000, 16))
        {
            tokens.Add(PyJson.EncodeString(s, ensureAscii: true));
            tokens.Add(PyJson.EncodeString(s, ensureAscii: false));
        }

        var python = Python.Run("for h in lines: emit(s_out(json.loads(s_in(h))))", tokens.Select(Python.Hex));
        Mismatches.AssertNone(tokens, python, t => Python.Hex(PyJson.DecodeString(Encoding.UTF8.GetBytes(t))));
    }

    [Fact]
    public void Dumps_is_what_python_writes_again_for_what_it_reads()
    {
        // Python reads our text and writes it back with the same indent: a fixed point only if every layout
        // detail (separators, indents, escapes, float repr, empty containers) is Python's.
        var random = new Random(8);
        var texts = new List<(int Indent, string Text)>();
        for (var k = 0; k < 400; k++)
        {
            var indent = k % 3 == 0 ? 2 : 4;
            texts.Add((indent, PyJson.Dumps(RandomNode(random, 0), indent)));
        }

        texts.Add((4, PyJson.Dumps(new JsonObject())));
        texts.Add((4, PyJson.Dumps(new JsonArray())));
        var python = Python.Run("""
            for line in lines:
                indent, h = line.split(' ')
                emit(s_out(json.dumps(json.loads(s_in(h)), indent=int(indent))))
            """, texts.Select(t => $"{t.Indent} {Python.Hex(t.Text)}"));
        Mismatches.AssertNone(texts, python, t => Python.Hex(t.Text), t => t.Text);
        Assert.Equal(["{}", "[]"], texts[^2..].Select(t => t.Text));
    }

    private static JsonNode? RandomNode(Random random, int depth)
    {
        var strings = TrickyStrings.Alphabet;
        switch (random.Next(depth >= 3 ? 6 : 8))
        {
            case 0: return null;
            case 1: return JsonValue.Create(random.Next(2) == 0);
            case 2: return JsonValue.Create(random.NextInt64(-1L << 60, 1L << 60));
            case 3:
                double[] special = [0.0, -0.0, 1.0, 1e16, 1e15, 1e-5, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
                return JsonValue.Create(random.Next(3) == 0 ? special[random.Next(special.Length)] : BitConverter.Int64BitsToDouble(random.NextInt64(0, 0x7FEFFFFFFFFFFFFF)));
            case 4:
            case 5: return JsonValue.Create(strings[random.Next(strings.Length)] + strings[random.Next(strings.Length)]);
            case 6:
                var array = new JsonArray();
                for (var i = random.Next(4); i > 0; i--)
                {
                    array.Add(RandomNode(random, depth + 1));
                }

                return array;
            default:
                var obj = new JsonObject();
                for (var i = random.Next(4); i > 0; i--)
                {
                    obj[strings[random.Next(strings.Length)] + i] = RandomNode(random, depth + 1);
                }

                return obj;
        }
    }
}
