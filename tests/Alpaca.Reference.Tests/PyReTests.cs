using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Alpaca.Reference.Tests.Support;

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
    public void Collapsing_whitespace_is_pythons_re_sub()
    {
        var strings = TrickyStrings.Make(4, 5000, 12);
        var python = Python.Run(@"for h in lines: emit(s_out(re.sub(r'\s+', ' ', s_in(h))))", strings.Select(Python.Hex));
        Mismatches.AssertNone(strings, python, s => Python.Hex(PyRe.CollapseWhitespace(s)), Python.Hex);
    }
}
