using System.Text.Json.Nodes;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Models;

/// <summary>
/// Llama 3.1's rope scaling: the divisors against transformers' <c>_compute_llama3_parameters</c> (written
/// out independently below), config.json and GGUF (rope_freqs.weight) read and written, and the HF ⇄ GGUF
/// converters carrying it with tied embeddings (Llama 3.2's shape).
/// </summary>
public class Llama3RopeScalingTests
{
    // Meta-Llama-3.2-1B's config.json as published (tied embeddings, factor 32).
    private const string Llama32Config = """
        {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
         "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
         "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
         "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0",
         "use_cache": true, "vocab_size": 128256}
        """;

    /// <summary>A tiny model whose pre-training context (32) puts two frequencies in the interpolated band.</summary>
    public static LlamaConfig TinyScaled(bool tied = true) => TinyModelFactory.Tiny(dim: 64, heads: 2, kvHeads: 1) with
    {
        TiedEmbeddings = tied,
        RopeScaling = new Llama3RopeScaling { Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalContextLength = 32 },
    };

    /// <summary>transformers' _compute_default_rope_parameters + _compute_llama3_parameters, step by step.</summary>
    public static double[] TransformersInvFreq(int dim, double theta, double factor, double low, double high, int oldContext)
    {
        var result = new double[dim / 2];
        double lowFreqWavelen = oldContext / low, highFreqWavelen = oldContext / high;
        for (var i = 0; i < result.Length; i++)
        {
            var invFreq = 1.0 / Math.Pow(theta, 2.0 * i / dim);
            var wavelen = 2 * Math.PI / invFreq;
            var invFreqLlama = wavelen > lowFreqWavelen ? invFreq / factor : invFreq;
            var smoothFactor = ((oldContext / wavelen) - low) / (high - low);
            var smoothed = ((1 - smoothFactor) * invFreqLlama / factor) + (smoothFactor * invFreqLlama);
            var isMediumFreq = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            result[i] = isMediumFreq ? smoothed : invFreqLlama;
        }

        return result;
    }

    [Theory]
    [InlineData(128, 500000f, 8.0, 8192)]  // Llama 3.1 8B/70B/405B
    [InlineData(64, 500000f, 32.0, 8192)]  // Llama 3.2 1B
    [InlineData(32, 10000f, 8.0, 32)]      // the tiny test shape
    public void Divisors_give_transformers_llama3_frequencies_and_are_recovered_from_them(int headDim, float theta, double factor, int oldContext)
    {
        var scaling = new Llama3RopeScaling { Factor = factor, OriginalContextLength = oldContext };
        var divisors = scaling.FrequencyFactors(headDim, theta);
        var expected = TransformersInvFreq(headDim, theta, factor, 1, 4, oldContext);
        for (var i = 0; i < divisors.Length; i++)
        {
            var ours = 1.0 / Math.Pow(theta, 2.0 * i / headDim) / divisors[i];
            Assert.True(Math.Abs(ours - expected[i]) <= 2e-6 * expected[i], $"pair {i}: {ours} vs transformers {expected[i]}");
        }

        Assert.Equal(1f, divisors[0]);              // the fastest rotation is kept
        Assert.Equal((float)factor, divisors[^1]);  // the slowest is divided by the factor
        Assert.Contains(divisors, d => d > 1 && d < factor); // and the band between is interpolated
        Assert.Equal(scaling, Llama3RopeScaling.Fit(divisors, headDim, theta, oldContext));
    }

    [Fact]
    public void Llama_3_2_config_json_is_read_and_written_back()
    {
        var config = LlamaConfig.FromHfConfigJson(Llama32Config);
        Assert.True(config.TiedEmbeddings);
        Assert.Equal(new Llama3RopeScaling { Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalContextLength = 8192 }, config.RopeScaling);
        var written = JsonNode.Parse(config.ToHfConfigJson())!.AsObject();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Llama32Config)!["rope_scaling"], written["rope_scaling"]), written["rope_scaling"]!.ToJsonString());
        Assert.Equal(config, LlamaConfig.FromHfConfigJson(written.ToJsonString()));
    }

    [Theory]
    [InlineData("\"factor\": 0.5, \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 8192", "needs factor ≥ 1")]
    [InlineData("\"factor\": 8, \"low_freq_factor\": 4, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 8192", "0 < low_freq_factor < high_freq_factor")]
    [InlineData("\"factor\": 8, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 8192", "'rope_scaling' of type llama3 needs 'low_freq_factor'.")]
    public void Bad_llama3_parameters_are_refused_naming_them(string keys, string message)
    {
        var json = Llama32Config.Replace("\"factor\": 32.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0, \"original_max_position_embeddings\": 8192", keys, StringComparison.Ordinal);
        Assert.Contains(message, Assert.Throws<InvalidDataException>(() => LlamaConfig.FromHfConfigJson(json, "c.json")).Message);
    }

    [Fact]
    public void Hf_to_gguf_writes_rope_freqs_and_no_output_and_gguf_to_hf_writes_rope_scaling_and_no_lm_head()
    {
        using var dir = new TempDir("llama3-conv");
        var config = TinyScaled();
        var spec = new TinyModelSpec { Config = config, RandomNorms = true };
        TinyModelFactory.WriteHf(dir.File("hf"), spec);
        using (var hf = SafetensorsCheckpoint.Open(dir.File("hf")))
        {
            Assert.False(hf.Contains(LlamaTensorNames.Hf.Output));
        }


        HfToGgufConverter.Convert(dir.File("hf"), dir.File("m.gguf"), GgmlType.F32);
        using (var gguf = GgufFile.Open(dir.File("m.gguf")))
        {
            Assert.False(gguf.TryGetTensor(LlamaTensorNames.Output, out _));
            var freqs = gguf.GetTensor(LlamaConfig.RopeFreqsTensor);
            Assert.Equal(GgmlType.F32, freqs.Type);
            Assert.Equal([16L], freqs.Shape);
            var expected = TransformersInvFreq(32, 10000, 8, 1, 4, 32);
            var divisors = gguf.ReadAsFloat32(freqs);
            for (var i = 0; i < 16; i++)
            {
                Assert.Equal(1.0 / Math.Pow(10000, i / 16.0) / expected[i], divisors[i], 1e-5 * divisors[i]);
            }

            Assert.Equal(config, LlamaConfig.FromGguf(gguf));
        }

        GgufToHfConverter.Convert(dir.File("m.gguf"), dir.File("back"), SafetensorsDType.F32);
        var back = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.File("back"), "config.json")))!;
        Assert.True(JsonNode.DeepEquals(config.RopeScaling!.ToJson(), back["rope_scaling"]), back["rope_scaling"]?.ToJsonString());
        Assert.True(back["tie_word_embeddings"]!.GetValue<bool>());
        using var ckpt = SafetensorsCheckpoint.Open(dir.File("back"));
        Assert.False(ckpt.Contains(LlamaTensorNames.Hf.Output));
        Assert.Equal(TinyModelFactory.Weight(spec, LlamaTensorNames.TokenEmbedding, [64, 384]), ckpt.ReadAsFloat32(LlamaTensorNames.Hf.TokenEmbedding));
        Assert.Equal(config, LlamaConfig.ReadHfConfig(Path.Combine(dir.File("back"), "config.json")));
    }

    [Fact]
    public void Published_files_without_the_original_context_key_are_read_as_llama_3s_8192()
    {
        // convert_hf_to_gguf.py writes only the tensor; its divisors assume an original context of 8192.
        var config = TinyModelFactory.Tiny(dim: 256, heads: 2, kvHeads: 1) with { RopeTheta = 500000, RopeScaling = new Llama3RopeScaling { Factor = 32 } };
        var w = new GgufWriter();
        (config with { RopeScaling = null }).ApplyTo(w.Metadata);
        w.AddTensor(LlamaConfig.RopeFreqsTensor, [64], GgmlType.F32, config.RopeScaling.FrequencyFactors(128, 500000));
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        using var g = GgufFile.FromBytes(ms.ToArray(), "m.gguf");
        Assert.Equal(config with { TiedEmbeddings = true }, LlamaConfig.FromGguf(g));
    }
}
