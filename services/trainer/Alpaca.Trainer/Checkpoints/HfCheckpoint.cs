using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Llm.Chat;
using Alpaca.Llm.IO;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Tokenization;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Checkpoints;

/// <summary>A Hugging Face LLaMA checkpoint folder read into memory.</summary>
public sealed class HfBaseModel(string folder, LlamaConfig config, JsonObject configJson, Dictionary<string, Tensor> weights, PreTrainedTokenizer tokenizer) : IDisposable
{
    public string Folder { get; } = folder;
    public LlamaConfig Config { get; set; } = config;
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
/// Reads and writes Hugging Face checkpoints: <c>config.json</c> through <see cref="LlamaConfig"/> (the
/// reader and validation serving uses), <c>model.safetensors</c> (or shards of at most 5 GB with
/// <c>model.safetensors.index.json</c>, as <c>save_pretrained</c> does) through the Llm safetensors stack
/// via <see cref="TensorBridge"/>, <c>generation_config.json</c> and the tokenizer files.
/// </summary>
public static class HfCheckpoint
{
    public const string ConfigFile = LlamaConfig.HfConfigFileName;
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

        var config = LlamaConfig.ReadHfConfig(configPath);
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(configPath))!;
        var tokenizer = PreTrainedTokenizer.Load(folder);
        var weights = TensorBridge.Read(folder);
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
            TensorBridge.WriteCheckpoint(folder, weights, shardBytes);
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }

        var config = model.Config with { PadTokenId = tokenizer.PadTokenId };
        var torchDtype = SafetensorsDTypes.TorchName(TensorBridge.ToSafetensors(dtype, "weights"));
        DurableFile.WriteAllText(Path.Combine(folder, ConfigFile), config.ToHfConfigJson(torchDtype, originalConfig));
        var options = new JsonSerializerOptions { WriteIndented = true };
        var generation = new JsonObject
        {
            ["bos_token_id"] = config.BosTokenId,
            ["eos_token_id"] = config.EosTokenId,
            ["pad_token_id"] = config.PadTokenId is { } pad ? JsonValue.Create(pad) : null,
        };
        DurableFile.WriteAllText(Path.Combine(folder, "generation_config.json"), generation.ToJsonString(options));
        // The model is fine-tuned on Alpaca prompts whatever its base was chat-tuned on: its chat template is
        // the Alpaca one, so every runtime (ours, llama.cpp, transformers) prompts it as it was trained.
        HfTokenizerFiles.Write(folder, tokenizer.Vocabulary with { ChatTemplate = AlpacaChatFormat.JinjaSource }, tokenizerSource, modelMaxLength);
    }
}
