using System.Text.Json.Nodes;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Tokenizers;

/// <summary>An HF folder's tokenizer files: the vocabulary file, added tokens (train.py's [PAD]) and special tokens.</summary>
public class HfTokenizerFilesTests
{
    [Fact]
    public void Saving_over_a_copied_base_records_added_tokens_in_every_file_and_reads_back()
    {
        using var dir = new TempDir("hf-tok-files");
        var baseDir = Path.Combine(dir.Path, "base");
        var vocab = LlamaVocabulary.CreateByteFallback(400);
        HfTokenizerFiles.Write(baseDir, vocab);
        File.WriteAllText(Path.Combine(baseDir, HfTokenizerJson.FileName), """{"added_tokens":[{"id":1,"content":"<s>","special":true}],"model":{"type":"BPE"}}""");
        var modelBytes = File.ReadAllBytes(Path.Combine(baseDir, SentencePieceModelFile.FileName));

        var withPad = vocab with { Tokens = [.. vocab.Tokens, "[PAD]"], Types = [.. vocab.Types, TokenType.Control], Scores = [.. vocab.Scores!, 0f], PaddingTokenId = 400 };
        var outDir = Path.Combine(dir.Path, "out");
        HfTokenizerFiles.Write(outDir, withPad, copyFrom: baseDir, modelMaxLength: 512);

        // The base vocabulary file is copied unchanged; the addition is listed where HF lists added tokens.
        Assert.Equal(modelBytes, File.ReadAllBytes(Path.Combine(outDir, SentencePieceModelFile.FileName)));
        Assert.Equal(400, JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, HfTokenizerFiles.AddedTokensJson)))!["[PAD]"]!.GetValue<int>());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, HfTokenizerFiles.TokenizerConfigJson)))!;
        Assert.Equal(("[PAD]", 512), (config["pad_token"]!.GetValue<string>(), config["model_max_length"]!.GetValue<int>()));
        Assert.Equal("[PAD]", JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, HfTokenizerFiles.SpecialTokensMapJson)))!["pad_token"]!.GetValue<string>());
        var fast = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, HfTokenizerJson.FileName)))!["added_tokens"]!.AsArray();
        Assert.Contains(fast, t => t!["id"]!.GetValue<int>() == 400 && t["content"]!.GetValue<string>() == "[PAD]" && t["special"]!.GetValue<bool>());

        var back = HfTokenizerFiles.Read(outDir)!;
        Assert.Equal(withPad.Tokens, back.Tokens);
        Assert.Equal(withPad.Types, back.Types);
        Assert.Equal((1, 2, 0, 400), (back.BosTokenId, back.EosTokenId, back.UnknownTokenId, back.PaddingTokenId));
    }

    [Fact]
    public void Added_tokens_with_a_gap_are_refused_naming_the_ids()
    {
        using var dir = new TempDir("hf-tok-gap");
        HfTokenizerFiles.Write(dir.Path, LlamaVocabulary.CreateByteFallback(300));
        File.WriteAllText(dir.File(HfTokenizerFiles.AddedTokensJson), """{"[PAD]": 301}""");
        var e = Assert.Throws<InvalidDataException>(() => HfTokenizerFiles.Read(dir.Path));
        Assert.Contains("301", e.Message);
    }

    [Fact]
    public void A_llama3_style_byte_level_vocabulary_round_trips_through_tokenizer_json()
    {
        using var dir = new TempDir("hf-tok-bpe");
        var tokens = Enumerable.Range(0, 256).Select(i => ((char)(0x100 + i)).ToString()).Concat(["ĠĠ", "<|begin_of_text|>", "<|end_of_text|>", "<|extra|>"]).ToArray();
        var types = tokens.Select(t => t switch { "<|begin_of_text|>" or "<|end_of_text|>" => TokenType.Control, "<|extra|>" => TokenType.UserDefined, _ => TokenType.Normal }).ToArray();
        var vocab = new LlamaVocabulary
        {
            Model = LlamaVocabulary.Gpt2Model,
            PreTokenizer = "llama-bpe",
            Tokens = tokens,
            Types = types,
            Merges = ["Ġ Ġ"],
            BosTokenId = 257,
            EosTokenId = 258,
            AddBosToken = true,
            IgnoreMerges = true,
        };
        HfTokenizerFiles.Write(dir.Path, vocab);
        Assert.False(File.Exists(dir.File(SentencePieceModelFile.FileName)));

        var back = HfTokenizerFiles.Read(dir.Path)!;
        Assert.Equal(tokens, back.Tokens);
        Assert.Equal(types, back.Types);
        Assert.Equal(vocab.Merges, back.Merges);
        Assert.Equal("llama3", back.PreTokenizer); // the Llama-3 regex is recognised by its pattern
        Assert.Equal((257, 258, true, true), (back.BosTokenId, back.EosTokenId, back.AddBosToken, back.IgnoreMerges));
    }
}
