using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>The SentencePiece-BPE rules on small vocabularies whose right answers can be worked out by hand.</summary>
public class SpmTokenizerTests
{
    private static readonly string[] HelloPieces = ["▁", "e", "l", "o", "H", "w", "r", "d", "!", "ll", "▁H", "▁He", "▁Hell", "▁Hello", "▁w", "▁wo", "▁wor", "▁worl", "▁world", "He", "Hel"];

    private static int Id(ITextTokenizer tokenizer, string piece) =>
        Enumerable.Range(0, tokenizer.VocabSize).Single(i => tokenizer.TokenText(i) == piece);

    private static string[] Pieces(ITextTokenizer tokenizer, IEnumerable<int> ids) => ids.Select(tokenizer.TokenText).ToArray();

    [Fact]
    public void Adds_the_prefix_space_and_merges_whole_words()
    {
        var tokenizer = TokenizerFactory.FromVocabulary(TestVocab.Ranked(HelloPieces));
        Assert.Equal(["<s>", "▁Hello", "▁world", "!"], Pieces(tokenizer, tokenizer.Encode("Hello world!", addBos: true)));
        Assert.Equal(["▁Hello"], Pieces(tokenizer, tokenizer.Encode("Hello", addBos: false)));
        Assert.True(tokenizer.AddBosByDefault);
        Assert.Equal((1, 2, 0), (tokenizer.BosId, tokenizer.EosId, tokenizer.UnkId));
    }

    [Fact]
    public void Merges_the_highest_scoring_pair_first_and_the_leftmost_on_ties()
    {
        var pieces = new (string, float)[] { ("a", -10), ("b", -10), ("c", -10), ("ab", -2), ("bc", -1) };
        var bcFirst = TokenizerFactory.FromVocabulary(TestVocab.Spm(pieces, addSpacePrefix: false));
        Assert.Equal(["a", "bc"], Pieces(bcFirst, bcFirst.Encode("abc", addBos: false)));

        var abFirst = TokenizerFactory.FromVocabulary(TestVocab.Spm([("a", -10), ("b", -10), ("c", -10), ("ab", -1), ("bc", -2)], addSpacePrefix: false));
        Assert.Equal(["ab", "c"], Pieces(abFirst, abFirst.Encode("abc", addBos: false)));

        var tie = TokenizerFactory.FromVocabulary(TestVocab.Spm([("a", -10), ("b", -10), ("c", -10), ("ab", -1), ("bc", -1)], addSpacePrefix: false));
        Assert.Equal(["ab", "c"], Pieces(tie, tie.Encode("abc", addBos: false)));
    }

    [Fact]
    public void Falls_back_to_utf8_byte_tokens_for_unknown_characters()
    {
        var tokenizer = TokenizerFactory.FromVocabulary(TestVocab.Ranked(HelloPieces));
        var ids = tokenizer.Encode("é😀", addBos: false);
        Assert.Equal(["▁", "<0xC3>", "<0xA9>", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"], Pieces(tokenizer, ids));
        Assert.Equal("é😀", tokenizer.Decode(ids.ToArray()));
    }

    [Fact]
    public void Uses_unk_when_the_vocabulary_has_no_byte_pieces()
    {
        var tokenizer = TokenizerFactory.FromVocabulary(TestVocab.Spm([("▁", 0)], withBytes: false));
        Assert.Equal([259, 0, 0], tokenizer.Encode("é", addBos: false));
    }

    [Fact]
    public void Special_token_text_is_only_a_token_with_parseSpecial_but_user_defined_tokens_always_are()
    {
        var vocab = TestVocab.Spm(HelloPieces.Select((p, i) => (p, (float)-i)), extra: ("<tool>", TokenType.UserDefined));
        var tokenizer = TokenizerFactory.FromVocabulary(vocab);
        var tool = Id(tokenizer, "<tool>");

        var plain = tokenizer.Encode("Hello</s>", addBos: false);
        Assert.DoesNotContain(tokenizer.EosId, plain);

        // After a special token the next text fragment gets its own prefix space, as in llama.cpp.
        Assert.Equal(["▁Hello", "</s>", "▁Hello"], Pieces(tokenizer, tokenizer.Encode("Hello</s>Hello", addBos: false, parseSpecial: true)));
        Assert.Equal(["▁Hello", "<tool>", "▁Hello"], Pieces(tokenizer, tokenizer.Encode("Hello<tool>Hello", addBos: false)));
        Assert.False(tokenizer.IsSpecial(tool));
        Assert.True(tokenizer.IsSpecial(tokenizer.EosId));
        Assert.True(tokenizer.IsSpecial(tokenizer.UnkId));
    }

    [Fact]
    public void Decode_removes_one_prefix_space_and_skips_control_tokens_on_request()
    {
        var tokenizer = TokenizerFactory.FromVocabulary(TestVocab.Ranked(HelloPieces));
        foreach (var text in new[] { "Hello world!", " Hello", "  Hello  ", "", "\n" })
        {
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addBos: true).ToArray()));
        }

        var ids = tokenizer.Encode("Hello", addBos: true).Append(tokenizer.EosId).ToArray();
        Assert.Equal("Hello", tokenizer.Decode(ids));
        Assert.Equal("<s> Hello</s>", tokenizer.Decode(ids, skipSpecial: false));
    }

    [Fact]
    public void Unused_tokens_decode_to_nothing_like_llama_cpp()
    {
        var tokenizer = TokenizerFactory.FromVocabulary(TestVocab.Spm([("▁a", -1)], extra: ("<pad_0>", TokenType.Unused)));
        var pad = Id(tokenizer, "<pad_0>");
        Assert.Equal("a", tokenizer.Decode([259, pad]));
    }

    [Fact]
    public void Bad_vocabularies_and_ids_give_clear_errors()
    {
        var badByte = TestVocab.Ranked("▁") with { Types = [.. TestVocab.Ranked("▁").Types.Select((t, i) => i == 259 ? TokenType.Byte : t)] };
        var e = Assert.Throws<ArgumentException>(() => TokenizerFactory.FromVocabulary(badByte));
        Assert.Contains("259", e.Message);

        var badScores = TestVocab.Ranked("▁") with { Scores = [1f, 2f] };
        Assert.Contains("scores", Assert.Throws<ArgumentException>(() => TokenizerFactory.FromVocabulary(badScores)).Message);

        var badBos = TestVocab.Ranked("▁") with { BosTokenId = 99999 };
        Assert.Contains("BOS", Assert.Throws<ArgumentException>(() => TokenizerFactory.FromVocabulary(badBos)).Message);

        Assert.Contains("'bert'", Assert.Throws<NotSupportedException>(() => TokenizerFactory.FromVocabulary(TestVocab.Ranked("▁") with { Model = "bert" })).Message);

        var tokenizer = TokenizerFactory.FromVocabulary(TestVocab.Ranked("▁"));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([tokenizer.VocabSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenText(-1));
    }
}
