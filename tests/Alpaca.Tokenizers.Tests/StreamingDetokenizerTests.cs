using System.Text;
using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>Streaming output never contains half a character, and its concatenation is exactly Decode.</summary>
public class StreamingDetokenizerTests
{
    private static readonly Lazy<ITextTokenizer> Llama2 = new(() => TokenizerFactory.FromVocabulary(ReferenceVocabularies.Llama2));

    [Fact]
    public void An_emoji_spread_over_four_byte_tokens_comes_out_whole_on_the_last_one()
    {
        var tokenizer = Llama2.Value;
        var ids = tokenizer.Encode("😀", addBos: true);
        Assert.Equal([1, 29871, 243, 162, 155, 131], ids); // BOS, ▁, then the four UTF-8 bytes
        var stream = tokenizer.CreateStreamingDetokenizer();
        var deltas = ids.Select(stream.Append).ToList();
        Assert.Equal(["", "", "", "", "", "😀"], deltas);
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public void Deltas_are_whole_characters_and_concatenate_to_decode()
    {
        foreach (var tokenizer in new[] { Llama2.Value, ReferenceVocabularies.Llama3() })
        {
            var records = Corpus.AlpacaRecords;
            var texts = Corpus.HardCases.Concat(Enumerable.Range(0, 400).Select(i => records[i * 130]).Select(r => Corpus.Alpaca(r.Instruction, r.Input, r.Output)));
            foreach (var text in texts)
            {
                var ids = tokenizer.Encode(text, addBos: tokenizer.AddBosByDefault);
                AssertStreamsLikeDecode(tokenizer, ids.ToArray());
            }
        }
    }

    [Fact]
    public void Random_byte_token_sequences_stream_exactly_like_decode_including_invalid_utf8()
    {
        var tokenizer = Llama2.Value;
        var random = new Random(20240517);
        for (var n = 0; n < 2000; n++)
        {
            // Byte tokens 3..258 in random order make complete, partial and invalid UTF-8; mix in text pieces too.
            var ids = Enumerable.Range(0, random.Next(1, 12))
                .Select(_ => random.Next(4) == 0 ? random.Next(259, tokenizer.VocabSize) : 3 + PickByte(random))
                .ToArray();
            AssertStreamsLikeDecode(tokenizer, ids);
        }
    }

    [Fact]
    public void Streams_skip_control_tokens_and_drop_the_prefix_space_once()
    {
        var tokenizer = Llama2.Value;
        var stream = tokenizer.CreateStreamingDetokenizer();
        var ids = tokenizer.Encode("Hi there", addBos: true).Append(tokenizer.EosId).ToArray();
        var text = string.Concat(ids.Select(stream.Append)) + stream.Flush();
        Assert.Equal("Hi there", text);

        // After Flush a new text starts: its prefix space is dropped again.
        Assert.Equal("Hi", string.Concat(tokenizer.Encode("Hi", addBos: false).Select(stream.Append)) + stream.Flush());
    }

    private static int PickByte(Random random) => random.Next(3) switch
    {
        0 => random.Next(0x20, 0x7F),   // ASCII
        1 => random.Next(0x80, 0xC0),   // continuation bytes
        _ => random.Next(0xC2, 0xF5),   // lead bytes of 2–4 byte sequences
    };

    private static void AssertStreamsLikeDecode(ITextTokenizer tokenizer, int[] ids)
    {
        var stream = tokenizer.CreateStreamingDetokenizer();
        var all = new StringBuilder();
        foreach (var id in ids)
        {
            var delta = stream.Append(id);
            AssertWholeCharacters(delta);
            all.Append(delta);
        }

        var tail = stream.Flush();
        AssertWholeCharacters(tail);
        all.Append(tail);
        Assert.Equal(tokenizer.Decode(ids), all.ToString());
    }

    private static void AssertWholeCharacters(string delta)
    {
        for (var i = 0; i < delta.Length; i++)
        {
            if (char.IsHighSurrogate(delta[i]))
            {
                Assert.True(i + 1 < delta.Length && char.IsLowSurrogate(delta[i + 1]), $"delta {Mismatches.Show(delta)} ends inside a surrogate pair");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(delta[i]), $"delta {Mismatches.Show(delta)} starts inside a surrogate pair");
            }
        }
    }
}
