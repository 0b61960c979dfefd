using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Alpaca.Reference.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Reference.Tests;

/// <summary>Python's <c>re</c> classes against Python's own, over every code point.</summary>
public sealed class PyReTests
{
    [Fact]
    public void Whitespace_class_is_pythons_backslash_s_over_every_code_point()
    {
        var python = Python.Run(@"emit(s_out(''.join(chr(c) for c in range(0x110000) if re.match(r'\s', chr(c)))))");
        var regex = new Regex("^" + PyRe.WhitespaceClass + "$", RegexOptions.CultureInvariant);
        var ours = Enumerable.Range(0, 0x10000).Where(c => regex.IsMatch(((char)c).ToString())).Select(c => ((char)c).ToString());
        Assert.Equal(Python.FromHex(python[0]), string.Concat(ours));
        Assert.Equal(PyStr.Whitespace, Python.FromHex(python[0])); // \s is str.isspace()
    }

    [Fact]
    public void Word_char_is_pythons_backslash_w_over_every_assigned_code_point()
    {
        // Code points that Python's Unicode database leaves unassigned are skipped: .NET may know a newer
        // Unicode version. Surrogates are skipped: they are not runes (callers treat them as non-word).
        var python = Python.Run(@"
emit(unicodedata.unidata_version)
for c in range(0x110000):
    if 0xD800 <= c <= 0xDFFF or unicodedata.category(chr(c)) == 'Cn': continue
    emit('%x %d' % (c, 1 if re.match(r'\w', chr(c)) else 0))
");
        var rows = python[1..].Select(l => l.Split(' ')).Select(p => (CodePoint: int.Parse(p[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), Word: p[1])).ToList();
        Assert.True(rows.Count > 200_000, $"Unicode {python[0]}: {rows.Count} assigned code points");
        Mismatches.AssertNone(rows, rows.Select(r => r.Word).ToList(), r => PyRe.IsWordChar(new Rune(r.CodePoint)) ? "1" : "0", r => $"U+{r.CodePoint:X4} (Unicode {python[0]})");
    }

    [Fact]
    public void Ignorecase_matches_of_ascii_letters_are_pythons_over_every_code_point()
    {
        // Python searches each letter case-insensitively through one string of every code point (a code
        // point's position is its value) and lists, for each code point found, the letters it matches.
        var python = Python.Run("""
            every = ''.join(chr(c) for c in range(0x110000))
            hits = {}
            for l in 'abcdefghijklmnopqrstuvwxyz':
                for m in re.finditer(l, every, re.IGNORECASE): hits[m.start()] = hits.get(m.start(), '') + l
            for c in sorted(hits): emit('%x %s' % (c, hits[c]))
            """);
        var expected = python.Select(l => l.Split(' ')).ToDictionary(p => int.Parse(p[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), p => p[1]);
        var codePoints = Enumerable.Range(0, 0x110000).Where(c => c is < 0xD800 or > 0xDFFF).ToList();
        var wanted = codePoints.Select(c => expected.GetValueOrDefault(c, "")).ToList();
        Mismatches.AssertNone(codePoints, wanted, c => string.Concat("abcdefghijklmnopqrstuvwxyz".Where(l => PyRe.IgnoreCaseEquals(new Rune(c), l))), c => $"U+{c:X4}");
    }

    [Fact]
    public void Collapsing_whitespace_is_pythons_re_sub()
    {
        var strings = TrickyStrings.Make(4, 5000, 12);
        var python = Python.Run(@"for h in lines: emit(s_out(re.sub(r'\s+', ' ', s_in(h))))", strings.Select(Python.Hex));
        Mismatches.AssertNone(strings, python, s => Python.Hex(PyRe.CollapseWhitespace(s)), Python.Hex);
    }
}
