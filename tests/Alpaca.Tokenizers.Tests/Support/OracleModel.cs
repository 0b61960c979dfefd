using System.Text.Json.Nodes;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Tokenizers.Tests.Support;

/// <summary>
/// A GGUF model written by Alpaca.Llm's tiny-model factory with a given vocabulary, our tokenizer read back
/// from that file, and llama.cpp's ids for a batch of texts — one oracle process per fixture.
/// </summary>
public abstract class OracleModel : IDisposable
{
    private readonly TempDir _dir = new("alpaca-tokenizer-oracle");
    private readonly Lazy<JsonObject> _response;

    protected OracleModel(string name, Func<LlamaVocabulary?> vocabulary, int vocabSize)
    {
        Path = _dir.File(name + ".gguf");
        var vocab = vocabulary();
        var config = TinyModelFactory.Tiny(dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64, vocab: vocab?.Count ?? vocabSize, context: 256);
        TinyModelFactory.WriteGguf(Path, new TinyModelSpec { Config = config, Vocabulary = vocab, Name = name });
        using (var gguf = GgufFile.Open(Path))
        {
            Tokenizer = TokenizerFactory.FromGguf(gguf);
        }

        Texts = Corpus.OracleTexts();
        _response = new(() => NodeScripts.Oracle(Request(), Path));
    }

    public string Path { get; }

    public ITextTokenizer Tokenizer { get; }

    /// <summary>Plain texts, tokenized with BOS and without special-token parsing.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>Texts tokenized with parseSpecial (and without BOS).</summary>
    public abstract IReadOnlyList<string> SpecialTexts { get; }

    public JsonObject Response => _response.Value;

    public int[][] OracleIds => Json.IdLists(Response["tokenize"]).Take(Texts.Count).ToArray();

    public int[][] OracleSpecialIds => Json.IdLists(Response["tokenize"]).Skip(Texts.Count).ToArray();

    private JsonObject Request()
    {
        var entries = new JsonArray(Texts.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        foreach (var text in SpecialTexts)
        {
            entries.Add(new JsonObject { ["text"] = text, ["addBos"] = false, ["parseSpecial"] = true });
        }

        return new JsonObject
        {
            ["tokenize"] = new JsonObject { ["texts"] = entries, ["addBos"] = true },
            ["logits"] = new JsonObject { ["prompt"] = "Give three tips for staying healthy.", ["positions"] = "all" },
            ["greedy"] = new JsonObject { ["prompt"] = "Give three tips for staying healthy.", ["n"] = 8, ["stopAtEos"] = false },
        };
    }

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The factory's own 32,000-piece byte-fallback SentencePiece vocabulary.</summary>
public sealed class SyntheticSpmModel() : OracleModel("synthetic-spm", () => null, 32000)
{
    public override IReadOnlyList<string> SpecialTexts { get; } = ["<s>Hello</s> world<unk>", "</s></s>", "a<s>b", " <s> spaced </s> "];
}

/// <summary>The real LLaMA-2 vocabulary (npm) with derived scores, embedded in a GGUF file.</summary>
public sealed class Llama2SpmModel() : OracleModel("llama2-vocab", () => ReferenceVocabularies.Llama2, 0)
{
    public override IReadOnlyList<string> SpecialTexts { get; } = ["<s>[INST] Hello [/INST]</s>", "text<unk>more", "<s><s>"];
}

/// <summary>Meta's Llama-3 tokenizer.json (npm) as a GGUF "gpt2" vocabulary with pre-tokenizer llama-bpe.</summary>
public sealed class Llama3BpeModel() : OracleModel("llama3-vocab", Llama3Vocabulary, 0)
{
    public override IReadOnlyList<string> SpecialTexts { get; } =
        ["<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>", "<|begin_of_text|><|begin_of_text|>x", "a<|reserved_special_token_3|>b"];

    private static LlamaVocabulary Llama3Vocabulary()
    {
        var v = HfTokenizerJson.Read(
            File.ReadAllText(ReferenceVocabularies.Llama3TokenizerJsonPath), File.ReadAllText(ReferenceVocabularies.Llama3TokenizerConfigJsonPath));
        return v with { PreTokenizer = "llama-bpe" };
    }
}
