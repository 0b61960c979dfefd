using System.Text.Json.Nodes;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>The same vocabulary read from each file format gives the same tokenizer; bad files give clear errors.</summary>
public class FileFormatTests
{
    private static IReadOnlyList<string> Texts()
    {
        var records = Corpus.AlpacaRecords;
        return Corpus.HardCases.Concat(Enumerable.Range(0, 200).Select(i => records[i * 251]).Select(r => Corpus.Alpaca(r.Instruction, r.Input, r.Output))).ToList();
    }

    [Fact]
    public void Llama2_style_hf_tokenizer_json_with_byte_fallback_equals_the_vocabulary()
    {
        // A tokenizer.json as HF's LlamaConverter writes it: BPE + byte_fallback, Prepend/Replace normalizer.
        var vocab = ReferenceVocabularies.Llama2;
        var merges = NodeScripts.Reference(new JsonObject { ["vocab"] = "llama2" })["merges"]!.AsArray()
            .Select(m => (JsonNode?)JsonValue.Create(m![0]!.GetValue<string>() + " " + m[1]!.GetValue<string>())).ToArray();
        var vocabObject = new JsonObject();
        for (var id = 0; id < vocab.Tokens.Length; id++)
        {
            vocabObject[vocab.Tokens[id]] = id;
        }

        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true },
                new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true },
                new JsonObject { ["id"] = 2, ["content"] = "</s>", ["special"] = true }),
            ["normalizer"] = JsonNode.Parse("""{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}"""),
            ["post_processor"] = JsonNode.Parse("""{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]}"""),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = "<unk>",
                ["byte_fallback"] = true,
                ["vocab"] = vocabObject,
                ["merges"] = new JsonArray(merges),
            },
        };

        var fromJson = TokenizerFactory.FromHfTokenizerJson(json.ToJsonString());
        var direct = TokenizerFactory.FromVocabulary(vocab);
        Assert.Equal((direct.BosId, direct.EosId, direct.UnkId, direct.AddBosByDefault, direct.VocabSize), (fromJson.BosId, fromJson.EosId, fromJson.UnkId, fromJson.AddBosByDefault, fromJson.VocabSize));
        foreach (var text in Texts())
        {
            Assert.Equal(direct.Encode(text, addBos: true), fromJson.Encode(text, addBos: true));
        }
    }

    [Fact]
    public void Sentencepiece_tokenizer_model_and_gguf_give_the_same_ids()
    {
        using var dir = new TempDir("alpaca-tokenizer-formats");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64, vocab: 4000) };
        TinyModelFactory.WriteGguf(dir.File("m.gguf"), spec);
        TinyModelFactory.WriteHf(dir.Path, spec);

        var fromGguf = TokenizerFactory.FromFile(dir.File("m.gguf"));
        var fromModel = TokenizerFactory.FromFile(dir.File("tokenizer.model"));
        Assert.Equal(4000, fromGguf.VocabSize);
        foreach (var text in Texts())
        {
            Assert.Equal(fromGguf.Encode(text, addBos: true), fromModel.Encode(text, addBos: true));
        }
    }

    [Fact]
    public void Missing_or_malformed_tokenizer_metadata_is_a_clear_error()
    {
        var writer = new GgufWriter();
        writer.Metadata.Set("general.architecture", GgufValue.String("llama"));
        using var empty = GgufFile.FromBytes(ToBytes(writer), "no-tokenizer.gguf");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFactory.FromGguf(empty));
        Assert.Contains("tokenizer.ggml.model", e.Message);
        Assert.Contains("no-tokenizer.gguf", e.Message);

        writer.Metadata.Set("tokenizer.ggml.model", GgufValue.String("llama"));
        writer.Metadata.Set("tokenizer.ggml.tokens", GgufValue.Array([1, 2, 3]));
        using var wrongType = GgufFile.FromBytes(ToBytes(writer), "int-tokens.gguf");
        Assert.Contains("tokenizer.ggml.tokens", Assert.Throws<InvalidDataException>(() => TokenizerFactory.FromGguf(wrongType)).Message);

        Assert.Throws<FileNotFoundException>(() => TokenizerFactory.FromFile("/nonexistent/tokenizer.json"));
        var json = Assert.Throws<InvalidDataException>(() => TokenizerFactory.FromHfTokenizerJson("{\"model\": {\"type\": \"Unigram\"}} x"));
        Assert.Contains("line 1", json.Message);
        Assert.Contains("Unigram", Assert.Throws<NotSupportedException>(() => TokenizerFactory.FromHfTokenizerJson("{\"model\": {\"type\": \"Unigram\"}}")).Message);
    }

    [Fact]
    public void Gguf_metadata_is_read_into_the_vocabulary()
    {
        var writer = new GgufWriter();
        writer.Metadata.Set("tokenizer.ggml.model", GgufValue.String("llama"));
        writer.Metadata.Set("tokenizer.ggml.tokens", GgufValue.Array(["<unk>", "<s>", "</s>", "▁a", "<pad>"]));
        writer.Metadata.Set("tokenizer.ggml.scores", GgufValue.Array([0f, 0f, 0f, -1f, 0f]));
        writer.Metadata.Set("tokenizer.ggml.token_type", GgufValue.Array([2, 3, 3, 1, 3]));
        writer.Metadata.Set("tokenizer.ggml.bos_token_id", GgufValue.UInt32(1));
        writer.Metadata.Set("tokenizer.ggml.eos_token_id", GgufValue.UInt32(2));
        writer.Metadata.Set("tokenizer.ggml.padding_token_id", GgufValue.UInt32(4));
        writer.Metadata.Set("tokenizer.ggml.add_bos_token", GgufValue.Bool(false));
        writer.Metadata.Set("tokenizer.ggml.add_space_prefix", GgufValue.Bool(false));
        using var file = GgufFile.FromBytes(ToBytes(writer), "meta.gguf");
        var vocab = LlamaVocabulary.FromGguf(file.Metadata)!;
        Assert.Equal([TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.Normal, TokenType.Control], vocab.Types);
        var tokenizer = TokenizerFactory.FromGguf(file);
        Assert.Equal((1, 2, (int?)4, false), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId, tokenizer.AddBosByDefault));
        Assert.Equal([3], tokenizer.Encode("▁a".Replace('▁', ' '), addBos: false)); // no prefix space added
    }

    private static byte[] ToBytes(GgufWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }
}
