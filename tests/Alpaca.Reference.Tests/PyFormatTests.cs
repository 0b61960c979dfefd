using System.Text;
using Alpaca.Reference.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Reference.Tests;

/// <summary><c>str.format_map</c> against Python's own: results and, for what Python refuses, its error and message.</summary>
public sealed class PyFormatTests
{
    private static readonly Dictionary<string, string> Mapping = new()
    {
        ["a"] = "A",
        ["b"] = "{b}",
        ["ab"] = "{a}}",
        ["_"] = "U",
        [" a"] = "S",
        ["a "] = "T",
        ["-"] = "M",
        ["\u00e9"] = "E",
        ["1a"] = "X",
        ["instruction"] = "Say {input} and {instruction}",
        ["input"] = "{instruction}",
    };

    private const string Script = """
        mapping = json.loads(s_in(lines[0]))
        for h in lines[1:]:
            try: emit('R ' + s_out(s_in(h).format_map(mapping)))
            except Exception as e: emit('E ' + s_out('%s: %s' % (type(e).__name__, e)))
        """;

    private static string Ours(string template)
    {
        try
        {
            return "R " + Python.Hex(PyFormat.FormatMap(template, Mapping));
        }
        catch (Exception e) when (e is FormatException or KeyNotFoundException)
        {
            return "E " + Python.Hex(e.Message);
        }
    }

    private static void AssertLikePython(List<string> templates)
    {
        var mappingJson = "{" + string.Join(",", Mapping.Select(p => PyJson.EncodeString(p.Key, ensureAscii: true) + ":" + PyJson.EncodeString(p.Value, ensureAscii: true))) + "}";
        var python = Python.Run(Script, [Python.Hex(mappingJson), .. templates.Select(Python.Hex)]);
        Mismatches.AssertNone(templates, python, Ours, t => t);
    }

    [Fact]
    public void Edge_cases_are_filled_or_refused_as_python_does()
    {
        AssertLikePython(
        [
            "", "plain", "{", "}", "a{b", "{a", "{}", "{0}", "{00}", "{\u0663}", "{a{b}", "{a}}", "{{a}}", "{ a}", "{a }", "{-}", "{\u00e9}",
            "{a}}}", "{{", "}}", "}{", "x{a}y{b}", "{1a}", "{_}", "{a}{", "{a}}b", "{missing}", "{a}{missing}", "{missing}{}", "{{}}", "{{{a}}}",
            "{ab}{b}", "a}}b{", "{}{a}", "{instruction}\n\n{input}", "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:",
        ]);
    }

    [Fact]
    public void Random_templates_are_filled_or_refused_as_python_does()
    {
        // Names without quotes, backslashes or control characters: Python's KeyError message is the repr of the name.
        string[] alphabet = ["{", "}", "{", "}", "a", "b", "_", " ", "0", "-", "x", "\u00e9", "\n"];
        var random = new Random(9);
        var templates = new List<string>();
        for (var i = 0; i < 5000; i++)
        {
            var sb = new StringBuilder();
            for (var k = random.Next(1, 11); k > 0; k--)
            {
                sb.Append(alphabet[random.Next(alphabet.Length)]);
            }

            var template = sb.ToString();
            if (!FieldNames(template).Any(n => n.Contains('\n')))
            {
                templates.Add(template);
            }
        }

        AssertLikePython(templates);
    }

    [Theory]
    [InlineData("{a!r}")]
    [InlineData("{a:>5}")]
    [InlineData("{a[0]}")]
    [InlineData("{a.b}")]
    public void Conversions_specs_indexes_and_attributes_are_refused_not_approximated(string template) =>
        Assert.Throws<FormatException>(() => PyFormat.FormatMap(template, Mapping));

    /// <summary>A rough cut of the texts between braces, enough to keep control characters out of KeyError names.</summary>
    private static IEnumerable<string> FieldNames(string template) =>
        template.Split('{').Skip(1).Select(part => part.Split('}')[0]);
}
