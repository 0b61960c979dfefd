using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Tests;

/// <summary>The rouge_score tokenizer: Python's lower(), runs of ASCII [a-z0-9], everything else separates.</summary>
public sealed class TokenizerTests
{
    [Theory]
    [InlineData("Write a poem about café & Python3! It's 2023.", "write a poem about caf python3 it s 2023")]
    [InlineData("İstanbul", "i stanbul")] // U+0130 lowers to "i" + U+0307, a separator
    [InlineData("\u212Aelvin", "kelvin")] // KELVIN SIGN lowers to ASCII k, inside the run
    [InlineData("naïve", "na ve")]
    [InlineData("don't stop-me now_3.14", "don t stop me now 3 14")]
    [InlineData("ǅemal ﬁle ıi ſs", "emal le i s")] // titlecase, ligature, dotless i, long s: none lower to ASCII
    [InlineData("x\u00a0y\u200bz\tw\nv", "x y z w v")]
    [InlineData("٣ and ３", "and")] // non-ASCII digits are not [0-9]
    [InlineData("", "")]
    [InlineData("¿¡ 你好 🙂 —", "")]
    public void Tokens_follow_python_lower_and_ascii_runs(string text, string expected)
    {
        var tokens = expected.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(tokens, RougeTokenizer.Tokenize(text));
        var vocabulary = new TokenVocabulary();
        Assert.Equal(tokens, vocabulary.Intern(text).Select(t => vocabulary[t]));
    }

    [Fact]
    public void Lone_surrogates_separate()
    {
        // Built in code: attribute arguments are stored as UTF-8, which turns lone surrogates into U+FFFD.
        var text = "a\uD800b\uDC00c\uD83D\uDE42d\uD83D";
        Assert.True(char.IsHighSurrogate(text[1]) && char.IsLowSurrogate(text[3]));
        Assert.Equal(["a", "b", "c", "d"], RougeTokenizer.Tokenize(text));
        var vocabulary = new TokenVocabulary();
        Assert.Equal(["a", "b", "c", "d"], vocabulary.Intern(text).Select(t => vocabulary[t]));
    }

    [Fact]
    public void The_interning_tokenizer_equals_the_reference_on_random_unicode()
    {
        var random = new RandomTexts(17);
        var vocabulary = new TokenVocabulary();
        for (var i = 0; i < 5000; i++)
        {
            var text = random.Chars(i % 40);
            Assert.Equal(RougeTokenizer.Tokenize(text), vocabulary.Intern(text).Select(t => vocabulary[t]));
        }
    }

    [Fact]
    public void Lookup_never_adds_and_marks_unknown_tokens()
    {
        var vocabulary = new TokenVocabulary();
        var known = vocabulary.Intern("give three tips");
        Assert.Equal([known[0], TokenVocabulary.Unknown, known[2]], vocabulary.Lookup("Give FOUR tips"));
        Assert.Equal(3, vocabulary.Count);
    }

    [Fact]
    public void A_ten_thousand_token_text_with_long_runs_tokenizes()
    {
        var text = string.Concat(Enumerable.Repeat("abc ", 10_000)) + new string('z', 5000);
        var vocabulary = new TokenVocabulary();
        var ids = vocabulary.Intern(text);
        Assert.Equal(10_001, ids.Length);
        Assert.Equal(new string('z', 5000), vocabulary[ids[^1]]);
    }
}
