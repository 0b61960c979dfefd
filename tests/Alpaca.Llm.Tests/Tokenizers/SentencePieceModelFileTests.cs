using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Tokenizers;

public class SentencePieceModelFileTests
{
    [Fact]
    public void Round_trips_pieces_scores_types_and_special_ids()
    {
        var vocab = LlamaVocabulary.CreateByteFallback(500) with { PaddingTokenId = 499 };
        var back = SentencePieceModelFile.Parse(SentencePieceModelFile.Serialize(vocab));
        Assert.Equal(vocab.Tokens, back.Tokens);
        Assert.Equal(vocab.Scores, back.Scores);
        Assert.Equal(vocab.Types, back.Types);
        Assert.Equal((0, 1, 2, 499), (back.UnknownTokenId, back.BosTokenId, back.EosTokenId, back.PaddingTokenId));
    }

    [Fact]
    public void Decodes_a_hand_encoded_model_proto()
    {
        // pieces { piece: "<unk>" score: 0 type: UNKNOWN } pieces { piece: "▁a" score: -1.5 }
        // trainer_spec { unk_id: 0 pad_id: -1 (a 10-byte varint) eos_id: 1 } and an unknown field 99 (varint) to skip.
        byte[] piece1 = [0x0A, 5, (byte)'<', (byte)'u', (byte)'n', (byte)'k', (byte)'>', 0x15, 0, 0, 0, 0, 0x18, 2];
        byte[] piece2 = [0x0A, 4, 0xE2, 0x96, 0x81, (byte)'a', 0x15, 0, 0, 0xC0, 0xBF];
        byte[] trainer = [0xC0, 0x02, 0, 0xD8, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0xD0, 0x02, 1];
        var bytes = new List<byte> { 0x0A, (byte)piece1.Length };
        bytes.AddRange(piece1);
        bytes.AddRange([0x0A, (byte)piece2.Length]);
        bytes.AddRange(piece2);
        bytes.AddRange([0x12, (byte)trainer.Length]);
        bytes.AddRange(trainer);
        bytes.AddRange([0x98, 0x06, 0x05]); // field 99, varint 5
        var v = SentencePieceModelFile.Parse(bytes.ToArray());
        Assert.Equal(new[] { "<unk>", "▁a" }, v.Tokens);
        Assert.Equal(new[] { 0f, -1.5f }, v.Scores);
        Assert.Equal(new[] { TokenType.Unknown, TokenType.Normal }, v.Types);
        Assert.Equal(1, v.EosTokenId);
        Assert.Null(v.PaddingTokenId);
    }

    [Fact]
    public void Truncated_model_names_the_byte()
    {
        var bytes = SentencePieceModelFile.Serialize(LlamaVocabulary.CreateByteFallback(300));
        var e = Assert.Throws<InvalidDataException>(() => SentencePieceModelFile.Parse(bytes.AsSpan(0, bytes.Length / 2), "tok.model"));
        Assert.Contains("tok.model", e.Message);
        Assert.Contains("byte", e.Message);
    }

    [Fact]
    public void Hf_tokenizer_json_with_byte_fallback_becomes_a_sentencepiece_vocabulary()
    {
        using var dir = new TempDir("tokjson");
        var json = """
            {"added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}],
             "model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>",
               "vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0x41>":3,"▁":4,"t":5,"h":6,"▁t":7,"▁th":8},
               "merges":["▁ t", ["▁t", "h"]]}}
            """;
        File.WriteAllText(dir.File("tokenizer.json"), json);
        var v = HfTokenizerFiles.Read(dir.Path)!;
        Assert.Equal("llama", v.Model);
        Assert.Equal(9, v.Count);
        Assert.Equal(TokenType.Byte, v.Types[3]);
        Assert.Equal(TokenType.Unknown, v.Types[0]);
        Assert.Equal(TokenType.Control, v.Types[1]);
        // score = −(index of the first merge producing the piece); pieces no merge produces rank below all.
        Assert.Equal(0f, v.Scores![7]);
        Assert.Equal(-1f, v.Scores[8]);
        Assert.Equal(-(2f + 4), v.Scores[4]);
    }
}
