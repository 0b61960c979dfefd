using System.Text;
using Alpaca.Cli.Commands.Dedup;

namespace Alpaca.Dedup.Tests;

/// <summary>The CLI's JSON text: numbers as Python's repr/json write them, strings decoded as Python's json does.</summary>
public sealed class JsonTextTests
{
    [Theory]
    [InlineData(0.7000000000000001, "0.7000000000000001")]
    [InlineData(0.7, "0.7")]
    [InlineData(1.0, "1.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(1.0 / 3, "0.3333333333333333")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(2.5e-07, "2.5e-07")]
    [InlineData(0.5714285714285715, "0.5714285714285715")]
    [InlineData(double.NaN, "null")]
    public void Doubles_are_written_as_python_repr(double value, string expected) => Assert.Equal(expected, JsonText.Number(value));

    [Fact]
    public void Strings_are_decoded_leniently()
    {
        // Lone surrogates stay out of attribute arguments: metadata stores those as UTF-8, which cannot hold them.
        (string Raw, string Expected)[] cases =
        [
            ("\"plain\"", "plain"),
            ("\"a\\ud800b\"", "a\uD800b"),
            ("\"\\udc00\\ud83d\\ude42\"", "\uDC00\uD83D\uDE42"),
            ("\"tab\\tquote\\\"slash\\/back\\\\\"", "tab\tquote\"slash/back\\"),
            ("\"caf\u00e9 \\u00e9\"", "café é"),
        ];
        foreach (var (raw, expected) in cases)
        {
            Assert.Equal(expected, JsonText.Unquote(Encoding.UTF8.GetBytes(raw)));
        }
    }

    [Fact]
    public void Quoting_escapes_lone_surrogates_and_keeps_pairs()
    {
        Assert.Equal("\"a\\ud800b\\n\\\"🙂\\u0001\"", JsonText.Quote("a\uD800b\n\"🙂\u0001"));
        var text = "x\uDC00y\uD83D\uDE42z\uD83D";
        Assert.Equal(text, JsonText.Unquote(Encoding.UTF8.GetBytes(JsonText.Quote(text))));
    }
}
