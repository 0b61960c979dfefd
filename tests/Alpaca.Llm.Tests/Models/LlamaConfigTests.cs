using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Models;

public class LlamaConfigTests
{
    // A real TinyLlama-1.1B config.json as published by its authors (hand-copied field values).
    private const string TinyLlamaConfig = """
        {
          "architectures": ["LlamaForCausalLM"],
          "attention_bias": false,
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 2048,
          "initializer_range": 0.02,
          "intermediate_size": 5632,
          "max_position_embeddings": 2048,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 22,
          "num_key_value_heads": 4,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-05,
          "rope_scaling": null,
          "rope_theta": 10000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.35.0",
          "use_cache": true,
          "vocab_size": 32000
        }
        """;

    [Fact]
    public void Reads_a_real_hf_config()
    {
        var c = LlamaConfig.FromHfConfigJson(TinyLlamaConfig);
        Assert.Equal(32000, c.VocabSize);
        Assert.Equal(2048, c.Dim);
        Assert.Equal(22, c.NLayers);
        Assert.Equal(32, c.NHeads);
        Assert.Equal(4, c.NKvHeads);
        Assert.Equal(5632, c.FfnDim);
        Assert.Equal(64, c.HeadDim);
        Assert.Equal(256, c.KvDim);
        Assert.Equal(8, c.GqaGroupSize);
        Assert.Equal(1e-5f, c.RmsNormEps);
        Assert.Equal(10000f, c.RopeTheta);
        Assert.False(c.TiedEmbeddings);
        // 1,100,048,384 worked out by hand: 2·32000·2048 + 22·(2·2048² + 2·2048·256 + 3·2048·5632 + 2·2048) + 2048.
        Assert.Equal(1_100_048_384, c.ParameterCount);
    }

    [Fact]
    public void Hf_json_round_trips()
    {
        var c = TinyModelFactory.Tiny() with { TiedEmbeddings = true, RopeTheta = 500000f, EosTokenId = 7, PadTokenId = 60, InitializerRange = 0.2 };
        Assert.Equal(c, LlamaConfig.FromHfConfigJson(c.ToHfConfigJson()));
    }

    [Fact]
    public void Writing_over_an_original_config_keeps_the_keys_it_does_not_model()
    {
        var original = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(TinyLlamaConfig)!;
        var c = LlamaConfig.FromHfConfigJson(TinyLlamaConfig) with { VocabSize = 32001, PadTokenId = 32000 };
        var written = System.Text.Json.Nodes.JsonNode.Parse(c.ToHfConfigJson("float32", original))!;
        Assert.Equal("4.35.0", written["transformers_version"]!.GetValue<string>());
        Assert.Equal(1, written["pretraining_tp"]!.GetValue<int>());
        Assert.Equal(32001, written["vocab_size"]!.GetValue<int>());
        Assert.Equal(32000, written["pad_token_id"]!.GetValue<int>());
        Assert.Equal("float32", written["torch_dtype"]!.GetValue<string>());
        Assert.Equal("bfloat16", original["torch_dtype"]!.GetValue<string>()); // the original is not modified
        Assert.Equal(c, LlamaConfig.FromHfConfigJson(written.ToJsonString()));
    }

    [Fact]
    public void Llama31_eos_list_takes_the_first_id()
    {
        var json = TinyLlamaConfig.Replace("\"eos_token_id\": 2", "\"eos_token_id\": [128001, 128008]").Replace("\"vocab_size\": 32000", "\"vocab_size\": 128256");
        Assert.Equal(128001, LlamaConfig.FromHfConfigJson(json).EosTokenId);
    }

    [Fact]
    public void Missing_and_malformed_keys_are_named()
    {
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromHfConfigJson(TinyLlamaConfig.Replace("\"hidden_size\": 2048,", ""), "cfg.json"));
        Assert.Contains("cfg.json", e.Message);
        Assert.Contains("hidden_size", e.Message);
        e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromHfConfigJson(TinyLlamaConfig.Replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": \"four\"")));
        Assert.Contains("num_key_value_heads", e.Message);
        e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromHfConfigJson(TinyLlamaConfig.Replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 5")));
        Assert.Contains("'num_attention_heads' (32) must be a multiple of 'num_key_value_heads' (5)", e.Message);
        e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromHfConfigJson("{ not json"));
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void Reads_gguf_metadata_written_by_the_factory()
    {
        using var dir = new TempDir("cfg-gguf");
        var config = TinyModelFactory.Tiny(dim: 96, layers: 3, heads: 6, kvHeads: 2, ffn: 256, vocab: 300, context: 64) with { RopeTheta = 1e6f };
        TinyModelFactory.WriteGguf(dir.File("m.gguf"), new TinyModelSpec { Config = config });
        using var g = GgufFile.Open(dir.File("m.gguf"));
        Assert.Equal(config, LlamaConfig.FromGguf(g));
        // Every key llama.cpp's loader reads for the llama architecture is present.
        foreach (var key in new[]
        {
            "general.architecture", "llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
            "llama.rope.dimension_count", "llama.attention.head_count", "llama.attention.head_count_kv",
            "llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base", "general.file_type", "llama.vocab_size",
        })
        {
            Assert.True(g.Metadata.ContainsKey(key), key);
        }

        Assert.Equal(GgufValueType.Float32, g.Metadata["llama.attention.layer_norm_rms_epsilon"].Type);
        Assert.Equal(GgufValueType.UInt32, g.Metadata["llama.block_count"].Type);
    }

    [Fact]
    public void Gguf_without_required_key_is_named()
    {
        var w = new GgufWriter();
        TinyModelFactory.Tiny().ApplyTo(w.Metadata);
        w.Metadata.Remove("llama.block_count");
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        using var g = GgufFile.FromBytes(ms.ToArray(), "x.gguf");
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.FromGguf(g));
        Assert.Contains("llama.block_count", e.Message);
        Assert.Contains("x.gguf", e.Message);
    }

    [Fact]
    public void Tensor_names_map_both_ways()
    {
        Assert.Equal("model.layers.11.self_attn.q_proj.weight", LlamaTensorNames.GgufToHf("blk.11.attn_q.weight"));
        Assert.Equal("blk.0.ffn_down.weight", LlamaTensorNames.HfToGguf("model.layers.0.mlp.down_proj.weight"));
        Assert.Equal("token_embd.weight", LlamaTensorNames.HfToGguf("model.embed_tokens.weight"));
        Assert.Equal("lm_head.weight", LlamaTensorNames.GgufToHf("output.weight"));
        Assert.Equal("model.norm.weight", LlamaTensorNames.GgufToHf("output_norm.weight"));
        Assert.Equal("model.layers.3.post_attention_layernorm.weight", LlamaTensorNames.GgufToHf("blk.3.ffn_norm.weight"));
        Assert.Null(LlamaTensorNames.HfToGguf("model.layers.0.self_attn.rotary_emb.inv_freq"));
        Assert.Null(LlamaTensorNames.GgufToHf("rope_freqs.weight"));
        foreach (var (name, _) in LlamaTensorNames.Expected(TinyModelFactory.Tiny()))
        {
            Assert.Equal(name, LlamaTensorNames.HfToGguf(LlamaTensorNames.GgufToHf(name)!));
        }

        Assert.Equal(7, LlamaTensorNames.LayerOf("blk.7.attn_norm.weight"));
        Assert.True(LlamaTensorNames.IsNorm("blk.7.attn_norm.weight"));
        Assert.False(LlamaTensorNames.IsNorm("blk.7.attn_q.weight"));
    }
}
