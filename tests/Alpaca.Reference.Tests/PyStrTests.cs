using System.Globalization;
using Alpaca.Reference.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Reference.Tests;

/// <summary>Python's <c>str</c> methods against Python's own, over every code point or many random strings.</summary>
public sealed class PyStrTests
{
    private static List<string> Strings() => TrickyStrings.Make(3, 5000, 12);

    [Fact]
    public void Isspace_is_pythons_over_every_code_point()
    {
        var python = Python.Run("emit(s_out(''.join(chr(c) for c in range(0x110000) if chr(c).isspace())))");
        Assert.Equal(PyStr.Whitespace, Python.FromHex(python[0])); // none outside the BMP
        var ours = Enumerable.Range(0, 0x10000).Where(c => PyStr.IsSpace((char)c)).Select(c => ((char)c).ToString());
        Assert.Equal(PyStr.Whitespace, string.Concat(ours));
    }

    [Fact]
    public void Strip_is_pythons()
    {
        var strings = Strings();
        var python = Python.Run("for h in lines: emit(s_out(s_in(h).strip()))", strings.Select(Python.Hex));
        Mismatches.AssertNone(strings, python, s => Python.Hex(PyStr.Strip(s)), Python.Hex);
    }

    [Fact]
    public void Split_count_is_pythons()
    {
        var strings = Strings();
        var python = Python.Run("for h in lines: emit(str(len(s_in(h).split())))", strings.Select(Python.Hex));
        Mismatches.AssertNone(strings, python, s => PyStr.SplitCount(s).ToString(CultureInfo.InvariantCulture), Python.Hex);
    }

    [Fact]
    public void First_code_point_is_pythons_s0()
    {
        var strings = Strings().Where(s => s.Length > 0).ToList();
        var python = Python.Run("for h in lines: emit(str(ord(s_in(h)[0])))", strings.Select(Python.Hex));
        Mismatches.AssertNone(strings, python, s => PyStr.FirstCodePoint(s).ToString(CultureInfo.InvariantCulture), Python.Hex);
    }

    [Fact]
    public void Lower_ascii_is_pythons_lower_wherever_that_has_ascii_in_it()
    {
        // Python lists the code points whose lower() has ASCII in it and is not the code point itself;
        // every other code point must come back unchanged (its lower() is non-ASCII, or itself).
        var python = Python.Run("""
            for c in range(0x110000):
                low = chr(c).lower()
                if low != chr(c) and any(ord(ch) < 128 for ch in low): emit('%x %s' % (c, s_out(low)))
            """);
        var expected = python.Select(l => l.Split(' ')).ToDictionary(p => int.Parse(p[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), p => Python.FromHex(p[1]));
        Assert.Equal(26 + 2, expected.Count); // A–Z, U+0130, U+212A
        var strings = TrickyStrings.EveryCodePoint(1);
        var wanted = strings.Select(s => expected.TryGetValue(PyStr.FirstCodePoint(s), out var low) ? Python.Hex(low) : Python.Hex(s)).ToList();
        Mismatches.AssertNone(strings, wanted, s => Python.Hex(PyStr.LowerAscii(s)), Python.Hex);

        var mixed = Strings();
        var lowered = Python.Run("for h in lines: emit(s_out(s_in(h).lower()))", mixed.Select(Python.Hex));
        Assert.All(mixed.Zip(lowered), p => Assert.Equal(AsciiOnly(Python.FromHex(p.Second)), AsciiOnly(PyStr.LowerAscii(p.First))));
    }

    [Fact]
    public void Punctuation_is_pythons_string_punctuation()
    {
        var python = Python.Run("import string\nemit(s_out(string.punctuation))");
        Assert.Equal(PyStr.Punctuation, Python.FromHex(python[0]));
    }

    /// <summary>The ASCII characters of a string with every run of other characters as one '·': what an ASCII comparison or tokenizer sees.</summary>
    private static string AsciiOnly(string s) => System.Text.RegularExpressions.Regex.Replace(s, "[^\\x00-\\x7F]+", "·");
}
