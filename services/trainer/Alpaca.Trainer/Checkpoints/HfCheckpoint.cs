using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Llm.Tokenizers;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Tokenization;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Checkpoints;

/// <summary>A Hugging Face LLaMA checkpoint folder read into memory.</summary>
public sealed class HfBaseModel(string folder, LlamaModelConfig config, JsonObject configJson, Dictionary<string, Tensor> weights, PreTrainedTokenizer tokenizer) : IDisposable
{
    public string Folder { get; } = folder;
    public LlamaModelConfig Config { get; set; } = config;
    public JsonObject ConfigJson { get; } = configJson;
    public Dictionary<string, Tensor> Weights { get; } = weights;
    public PreTrainedTokenizer Tokenizer { get; set; } = tokenizer;

    public void Dispose()
    {
        foreach (var t in Weights.Values)
        {
            t.Dispose();
        }

        Weights.Clear();
    }
}

/// <summary>
/// Reads and writes Hugging Face checkpoints: <c>config.json</c>, <c>model.safetensors</c> (or shards
/// of at most 5 GB with <c>model.safetensors.index.json</c>, as <c>save_pretrained</c> does),
/// <c>generation_config.json</c> and the tokenizer files.
/// </summary>
public static class HfCheckpoint
{
    public const string ConfigFile = "config.json";
    public const long DefaultShardBytes = 5_000_000_000;

    public static HfBaseModel Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Base model folder not found: {folder}");
        }

        var configPath = Path.Combine(folder, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"{folder}: no {ConfigFile}; expected a Hugging Face checkpoint folder.", configPath);
        }

        var config = LlamaModelConfig.Load(configPath);
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(configPath))!;
        var tokenizer = PreTrainedTokenizer.Load(folder);
        var weights = SafetensorsReader.ReadCheckpoint(folder);
        return new HfBaseModel(folder, config, json, weights, tokenizer);
    }

    /// <summary>
    /// Saves <paramref name="model"/> as an HF checkpoint in <paramref name="dtype"/>. With LoRA the
    /// adapters are merged when <paramref name="mergeLora"/>; otherwise the folder holds the base weights
    /// and the adapter is saved separately (see LoraAdapter).
    /// </summary>
    public static void Save(
        string folder,
        LlamaForCausalLM model,
        ScalarType dtype,
        bool mergeLora,
        PreTrainedTokenizer tokenizer,
        string? tokenizerSource,
        JsonObject? originalConfig,
        int modelMaxLength,
        long shardBytes = DefaultShardBytes)
    {
        Directory.CreateDirectory(folder);
        var weights = ModelWeights.Export(model, dtype, mergeLora);
        try
        {
            WriteWeights(folder, weights, shardBytes);
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }

        var config = model.Config with { PadTokenId = tokenizer.PadTokenId };
        var dtypeName = dtype switch
        {
            ScalarType.BFloat16 => "bfloat16",
            ScalarType.Float16 => "float16",
            _ => "float32",
        };
        var options = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToHfJson(originalConfig, dtypeName).ToJsonString(options));
        var generation = new JsonObject
        {
            ["bos_token_id"] = config.BosTokenId,
            ["eos_token_id"] = config.EosTokenId,
            ["pad_token_id"] = config.PadTokenId is { } pad ? JsonValue.Create(pad) : null,
        };
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), generation.ToJsonString(options));
        HfTokenizerFiles.Write(folder, tokenizer.Vocabulary, tokenizerSource, modelMaxLength);
    }

    private static void WriteWeights(string folder, Dictionary<string, Tensor> weights, long shardBytes)
    {
        var total = weights.Values.Sum(t => t.NumberOfElements * t.ElementSize);
        foreach (var stale in Directory.GetFiles(folder, "model*.safetensors*"))
        {
            File.Delete(stale);
        }

        if (total <= shardBytes)
        {
            SafetensorsWriter.Write(Path.Combine(folder, SafetensorsReader.SingleFile), weights);
            return;
        }

        // Fill shards in key order, as save_pretrained does.
        var shards = new List<Dictionary<string, Tensor>> { new(StringComparer.Ordinal) };
        long current = 0;
        foreach (var name in weights.Keys.Order(StringComparer.Ordinal))
        {
            var size = weights[name].NumberOfElements * weights[name].ElementSize;
            if (current > 0 && current + size > shardBytes)
            {
                shards.Add(new Dictionary<string, Tensor>(StringComparer.Ordinal));
                current = 0;
            }

            shards[^1][name] = weights[name];
            current += size;
        }

        var map = new JsonObject();
        for (var i = 0; i < shards.Count; i++)
        {
            var file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.Write(Path.Combine(folder, file), shards[i]);
            foreach (var name in shards[i].Keys)
            {
                map[name] = file;
            }
        }

        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = map };
        File.WriteAllText(Path.Combine(folder, SafetensorsReader.IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
