using System.Text.Json.Nodes;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Xunit;

namespace Alpaca.Trainer.Tests.Checkpoints;

/// <summary>
/// One config.json, two consumers: the trainer's load path (<see cref="HfCheckpoint.Load"/>) and the serving
/// path (HF → GGUF conversion, then <see cref="LlamaConfig.FromGguf"/> as the engine opens the file). Over a
/// table of real-world and broken configs, both accept with the same hyper-parameters or both refuse with
/// the identical message, which names the key and the value.
/// </summary>
public sealed class ConfigAgreementTests
{
    // Llama-2-7b-hf's config.json with its shape shrunk to a model that is quick to write.
    private static JsonObject Llama2() => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["hidden_act"] = "silu",
        ["hidden_size"] = 64,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = 192,
        ["max_position_embeddings"] = 128,
        ["model_type"] = "llama",
        ["num_attention_heads"] = 4,
        ["num_hidden_layers"] = 2,
        ["num_key_value_heads"] = 4,
        ["pretraining_tp"] = 1,
        ["rms_norm_eps"] = 1e-05,
        ["rope_scaling"] = null,
        ["tie_word_embeddings"] = false,
        ["torch_dtype"] = "float16",
        ["transformers_version"] = "4.31.0.dev0",
        ["use_cache"] = true,
        ["vocab_size"] = 384,
    };

    // Meta-Llama-3.1-8B's keys: GQA (num_key_value_heads below num_attention_heads), rope_theta 500000, an EOS list.
    private static JsonObject Llama3() => Edit(Llama2(), o =>
    {
        o["num_key_value_heads"] = 2;
        o["rope_theta"] = 500000.0;
        o["eos_token_id"] = new JsonArray(2, 3);
        o["attention_bias"] = false;
        o["attention_dropout"] = 0.0;
        o["mlp_bias"] = false;
        o["torch_dtype"] = "bfloat16";
    });

    private static JsonObject Edit(JsonObject o, Action<JsonObject> edit)
    {
        edit(o);
        return o;
    }

    /// <summary>Variant name → (config.json text, null when both must accept, else a part the shared message must contain).</summary>
    private static readonly Dictionary<string, (string Json, string? Refusal)> Variants = new()
    {
        ["llama-2"] = (Llama2().ToJsonString(), null),
        ["llama-3 gqa"] = (Llama3().ToJsonString(), null),
        ["mistral without a window"] = (Edit(Llama2(), o => { o["model_type"] = "mistral"; o["sliding_window"] = null; }).ToJsonString(), null),
        ["rope_scaling default"] = (Edit(Llama3(), o => o["rope_scaling"] = new JsonObject { ["rope_type"] = "default" }).ToJsonString(), null),
        ["rope_scaling linear"] = (Edit(Llama2(), o => o["rope_scaling"] = new JsonObject { ["type"] = "linear", ["factor"] = 2.0 }).ToJsonString(), null),
        ["rope_scaling linear without factor"] = (Edit(Llama2(), o => o["rope_scaling"] = new JsonObject { ["type"] = "linear" }).ToJsonString(),
            "'rope_scaling' of type linear needs 'factor'."),
        ["rope_scaling dynamic"] = (Edit(Llama2(), o => o["rope_scaling"] = new JsonObject { ["type"] = "dynamic", ["factor"] = 4.0 }).ToJsonString(),
            "'rope_scaling' is {\"type\":\"dynamic\",\"factor\":4}"),
        ["rope_scaling llama3"] = (Edit(Llama3(), o => o["rope_scaling"] = new JsonObject
        {
            ["factor"] = 8.0,
            ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0,
            ["original_max_position_embeddings"] = 8192,
            ["rope_type"] = "llama3",
        }).ToJsonString(), null),
        ["rope_scaling llama3 without original_max_position_embeddings"] = (Edit(Llama3(), o => o["rope_scaling"] = new JsonObject
        {
            ["factor"] = 8.0,
            ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0,
            ["rope_type"] = "llama3",
        }).ToJsonString(), "'rope_scaling' of type llama3 needs 'original_max_position_embeddings'."),
        ["rope_scaling yarn"] = (Edit(Llama3(), o => o["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 }).ToJsonString(),
            "'rope_scaling' is {\"rope_type\":\"yarn\",\"factor\":4}; rope scaling is not implemented"),
        ["mistral sliding window"] = (Edit(Llama2(), o => { o["model_type"] = "mistral"; o["sliding_window"] = 64; }).ToJsonString(),
            "'sliding_window' is 64 (below max_position_embeddings 128)"),
        ["hidden / heads"] = (Edit(Llama2(), o => { o["num_attention_heads"] = 6; o["num_key_value_heads"] = 6; }).ToJsonString(),
            "'hidden_size' (64) must be a multiple of 'num_attention_heads' (6)."),
        ["heads / kv heads"] = (Edit(Llama3(), o => o["num_key_value_heads"] = 3).ToJsonString(),
            "'num_attention_heads' (4) must be a multiple of 'num_key_value_heads' (3)."),
        ["missing intermediate_size"] = (Edit(Llama2(), o => o.Remove("intermediate_size")).ToJsonString(),
            "required key 'intermediate_size' is missing."),
        ["layers as a string"] = (Edit(Llama2(), o => o["num_hidden_layers"] = "2").ToJsonString(),
            "key 'num_hidden_layers' must be an integer, found \"2\"."),
        ["eps as a string"] = (Edit(Llama2(), o => o["rms_norm_eps"] = "1e-5").ToJsonString(),
            "key 'rms_norm_eps' must be a number, found \"1e-5\"."),
        ["tie as a string"] = (Edit(Llama2(), o => o["tie_word_embeddings"] = "false").ToJsonString(),
            "key 'tie_word_embeddings' must be true or false, found \"false\"."),
        ["gpt2"] = (Edit(Llama2(), o => o["model_type"] = "gpt2").ToJsonString(),
            "'model_type' is 'gpt2'; only LLaMA-architecture models are supported."),
        ["gelu"] = (Edit(Llama2(), o => o["hidden_act"] = "gelu").ToJsonString(), "'hidden_act' is 'gelu'; LLaMA uses 'silu'."),
        ["attention bias"] = (Edit(Llama3(), o => o["attention_bias"] = true).ToJsonString(), "'attention_bias' is true;"),
        ["not json"] = ("{ \"vocab_size\": 384,", "invalid JSON at line 1"),
        ["not an object"] = ("[1, 2]", "the top level is not a JSON object."),
    };

    public static TheoryData<string> Names => [.. Variants.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Training_and_serving_accept_and_refuse_the_same_configs_with_the_same_message(string variant)
    {
        var (json, refusal) = Variants[variant];
        using var dir = new TempDir("cfg-agree");
        var folder = dir.File("model");
        var accepted = refusal is null ? LlamaConfig.FromHfConfigJson(json) : TinyModelFactory.Tiny();
        TinyModelFactory.WriteHf(folder, new TinyModelSpec { Config = accepted });
        var configPath = Path.Combine(folder, "config.json");
        File.WriteAllText(configPath, json);

        LlamaConfig? trained = null;
        var trainerError = Record.Exception(() =>
        {
            using var loaded = HfCheckpoint.Load(folder);
            trained = loaded.Config;
        });

        LlamaConfig? served = null;
        var servingError = Record.Exception(() =>
        {
            var gguf = dir.File("model.gguf");
            HfToGgufConverter.Convert(folder, gguf, GgmlType.F32);
            using var file = GgufFile.Open(gguf);
            served = LlamaConfig.FromGguf(file);
        });

        if (refusal is null)
        {
            Assert.Null(trainerError);
            Assert.Null(servingError);
            Assert.Equal(trained, served);
            Assert.Equal(accepted, trained);
            return;
        }

        Assert.NotNull(trainerError);
        Assert.NotNull(servingError);
        Assert.IsType<InvalidDataException>(trainerError);
        Assert.Equal(trainerError.Message, servingError.Message);
        Assert.StartsWith(configPath + ": ", trainerError.Message);
        Assert.Contains(refusal, trainerError.Message);
    }

    [Fact]
    public void The_accepted_variants_read_the_values_their_configs_state()
    {
        var llama2 = LlamaConfig.FromHfConfigJson(Variants["llama-2"].Json);
        Assert.Equal((4, 4, 10000f, 1e-5f, 2), (llama2.NHeads, llama2.NKvHeads, llama2.RopeTheta, llama2.RmsNormEps, llama2.EosTokenId));
        var llama3 = LlamaConfig.FromHfConfigJson(Variants["llama-3 gqa"].Json);
        Assert.Equal((4, 2, 2, 500000f, 2), (llama3.NHeads, llama3.NKvHeads, llama3.GqaGroupSize, llama3.RopeTheta, llama3.EosTokenId));
    }
}
