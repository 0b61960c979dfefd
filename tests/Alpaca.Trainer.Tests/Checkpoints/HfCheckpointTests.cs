using System.Text.Json.Nodes;
using Alpaca.Llm.Safetensors;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Tokenization;
using Alpaca.Trainer.Training;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Checkpoints;

public sealed class HfCheckpointTests
{
    [Fact]
    public void Saved_checkpoint_loads_back_to_the_same_logits_and_has_hf_metadata()
    {
        var config = TinyModels.Config() with { VocabSize = TinyTokenizerFixture.Tokenizer.Count };
        using var model = TinyModels.Create(config);
        using var dir = new TempDir("hf");
        HfCheckpoint.Save(dir.Path, model, ScalarType.Float32, mergeLora: false, TinyTokenizerFixture.Tokenizer, null, null, 512);

        // transformers needs __metadata__.format == "pt" in every safetensors file.
        var bytes = File.ReadAllBytes(dir.File("model.safetensors"));
        var header = JsonNode.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0)))!;
        Assert.Equal("pt", header["__metadata__"]!["format"]!.GetValue<string>());
        Assert.Equal("F32", header["lm_head.weight"]!["dtype"]!.GetValue<string>());

        using var loaded = HfCheckpoint.Load(dir.Path);
        Assert.Equal(config with { BosTokenId = 1, EosTokenId = 2 }, loaded.Config);
        using var reloaded = new LlamaForCausalLM(loaded.Config);
        ModelWeights.Load(reloaded, loaded.Weights, dir.Path);
        using var ids = TinyModels.Tokens(2, 7, config.VocabSize, 4);
        using var _ = no_grad();
        Assert.True(model.forward(ids).equal(reloaded.forward(ids)).all().item<bool>());
        Assert.Equal(TinyTokenizerFixture.Tokenizer.Encode("Hello world"), loaded.Tokenizer.Encode("Hello world"));
    }

    [Fact]
    public void Large_checkpoints_are_sharded_with_an_index()
    {
        using var model = TinyModels.Create();
        using var dir = new TempDir("hf-shards");
        HfCheckpoint.Save(dir.Path, model, ScalarType.BFloat16, false, TinyTokenizerFixture.Tokenizer, null, null, 512, shardBytes: 8_000);
        var shards = Directory.GetFiles(dir.Path, "model-*-of-*.safetensors");
        Assert.True(shards.Length > 2);
        var weights = TensorBridge.Read(dir.Path);
        Assert.Equal(model.named_parameters().Count(), weights.Count);
        Assert.Equal(ScalarType.BFloat16, weights["model.norm.weight"].dtype);
    }

    [Fact]
    public void Missing_pad_adds_PAD_with_mean_rows_and_saves_it_in_every_tokenizer_file()
    {
        var tokenizer = TinyTokenizerFixture.Tokenizer;
        var config = TinyModels.Config() with { VocabSize = tokenizer.Count };
        using var model = TinyModels.Create(config);
        using var source = new TempDir("hf-src");
        HfCheckpoint.Save(source.Path, model, ScalarType.Float32, false, tokenizer, null, null, 512);

        using var baseModel = HfCheckpoint.Load(source.Path);
        Assert.Null(baseModel.Tokenizer.PadTokenId);
        var oldEmbedding = baseModel.Weights["model.embed_tokens.weight"].clone();
        var oldHead = baseModel.Weights["lm_head.weight"].clone();
        TrainingJob.AddPadTokenIfMissing(baseModel);

        Assert.Equal(tokenizer.Count, baseModel.Tokenizer.PadTokenId);
        Assert.Equal(tokenizer.Count + 1, baseModel.Config.VocabSize);
        Assert.Equal(tokenizer.Count, baseModel.Config.PadTokenId);
        var embedding = baseModel.Weights["model.embed_tokens.weight"];
        var head = baseModel.Weights["lm_head.weight"];
        Assert.True(embedding[^1].allclose(oldEmbedding.mean([0]), rtol: 1e-5, atol: 1e-7));
        Assert.True(head[^1].allclose(oldHead.mean([0]), rtol: 1e-5, atol: 1e-7));
        Assert.True(embedding.narrow(0, 0, tokenizer.Count).equal(oldEmbedding).all().item<bool>());

        using var grown = new LlamaForCausalLM(baseModel.Config);
        ModelWeights.Load(grown, baseModel.Weights, "grown");
        using var output = new TempDir("hf-out");
        HfCheckpoint.Save(output.Path, grown, ScalarType.Float32, false, baseModel.Tokenizer, source.Path, baseModel.ConfigJson, 512);
        Assert.Equal(tokenizer.Count, JsonNode.Parse(File.ReadAllText(output.File("added_tokens.json")))!["[PAD]"]!.GetValue<int>());
        Assert.Equal("[PAD]", JsonNode.Parse(File.ReadAllText(output.File("special_tokens_map.json")))!["pad_token"]!.GetValue<string>());
        Assert.Equal("[PAD]", JsonNode.Parse(File.ReadAllText(output.File("tokenizer_config.json")))!["pad_token"]!.GetValue<string>());
        Assert.Equal(tokenizer.Count + 1, JsonNode.Parse(File.ReadAllText(output.File("config.json")))!["vocab_size"]!.GetValue<int>());

        using var again = HfCheckpoint.Load(output.Path);
        Assert.Equal(tokenizer.Count, again.Tokenizer.PadTokenId);
        Assert.Equal(tokenizer.Count + 1, again.Tokenizer.Count);

        // [PAD] is a special token as HF adds it: its text in the data becomes the one id, and decodes back.
        var ids = again.Tokenizer.Encode("a[PAD]b");
        Assert.Equal([.. tokenizer.Encode("a"), tokenizer.Count, .. tokenizer.Encode("b").Skip(1)], ids);
        Assert.EndsWith("a[PAD] b", again.Tokenizer.Encoder.Decode([.. ids], skipSpecial: false));
    }

    [Fact]
    public void Broken_checkpoints_fail_naming_file_and_tensor()
    {
        using var model = TinyModels.Create();
        using var dir = new TempDir("hf-bad");
        HfCheckpoint.Save(dir.Path, model, ScalarType.Float32, false, TinyTokenizerFixture.Tokenizer, null, null, 512);
        var wrong = new LlamaForCausalLM(TinyModels.Config() with { FfnDim = 40 });
        using var loaded = HfCheckpoint.Load(dir.Path);
        var e = Assert.Throws<InvalidDataException>(() => ModelWeights.Load(wrong, loaded.Weights, dir.Path));
        Assert.Contains("mlp.gate_proj.weight", e.Message);
        Assert.Contains(dir.Path, e.Message);

        File.WriteAllText(dir.File("model.safetensors"), "garbage");
        var e2 = Assert.Throws<SafetensorsFormatException>(() => HfCheckpoint.Load(dir.Path));
        Assert.Contains("model.safetensors", e2.Message);

        File.Delete(dir.File("model.safetensors"));
        var e3 = Assert.Throws<FileNotFoundException>(() => HfCheckpoint.Load(dir.Path));
        Assert.Contains("model.safetensors.index.json", e3.Message);
    }
}
