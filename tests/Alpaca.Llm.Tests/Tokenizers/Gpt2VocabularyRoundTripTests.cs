using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Tokenizers;

public class Gpt2VocabularyRoundTripTests
{
    [Fact]
    public void Gpt2_vocabulary_survives_gguf_to_hf_tokenizer_json_and_back()
    {
        using var dir = new TempDir("gpt2-rt");
        // Byte-level alphabet (GPT-2 maps bytes to printable code points), a few merges, one special token.
        var tokens = Enumerable.Range(0, 256).Select(i => ((char)(0x100 + i)).ToString())
            .Concat(["ĠĠ", "ĠĠĠĠ", "<|endoftext|>"])
            .Concat(Enumerable.Range(0, 125).Select(i => $"w{i}"))
            .ToArray();
        var types = tokens.Select(t => t == "<|endoftext|>" ? TokenType.Control : TokenType.Normal).ToArray();
        var vocab = new LlamaVocabulary
        {
            Model = LlamaVocabulary.Gpt2Model,
            PreTokenizer = "default",
            Tokens = tokens,
            Types = types,
            Merges = ["Ġ Ġ", "ĠĠ ĠĠ"],
            BosTokenId = 258,
            EosTokenId = 258,
            UnknownTokenId = null,
            AddBosToken = false,
        };
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(vocab: tokens.Length) with { BosTokenId = 258, EosTokenId = 258 }, Vocabulary = vocab };
        TinyModelFactory.WriteGguf(dir.File("a.gguf"), spec);
        GgufToHfConverter.Convert(dir.File("a.gguf"), Path.Combine(dir.Path, "hf"), Alpaca.Llm.Safetensors.SafetensorsDType.F32);
        Assert.True(File.Exists(Path.Combine(dir.Path, "hf", "tokenizer.json")));
        HfToGgufConverter.Convert(Path.Combine(dir.Path, "hf"), dir.File("b.gguf"), Alpaca.Llm.Tensors.GgmlType.F32);

        using var b = GgufFile.Open(dir.File("b.gguf"));
        var back = LlamaVocabulary.FromGguf(b.Metadata)!;
        Assert.Equal("gpt2", back.Model);
        Assert.Equal(tokens, back.Tokens);
        Assert.Equal(vocab.Merges, back.Merges);
        Assert.Equal(types, back.Types);
        Assert.Equal(258, back.BosTokenId);
        Assert.Equal(258, back.EosTokenId);
    }
}
