using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Model;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Lora;

/// <summary>
/// LoRA set-up and adapter-only checkpoints in PEFT's format (<c>adapter_config.json</c> +
/// <c>adapter_model.safetensors</c> with keys <c>base_model.model.…lora_A.weight</c>), which
/// <c>PeftModel.from_pretrained</c> loads on top of the base model.
/// </summary>
public static class LoraAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>Freezes every base weight; only lora_A / lora_B stay trainable.</summary>
    public static void FreezeBase(LlamaForCausalLM model)
    {
        foreach (var (name, parameter) in model.named_parameters())
        {
            parameter.requires_grad = LoraNames.IsAdapter(name);
        }
    }

    public static void Save(string directory, LlamaForCausalLM model, string baseModel)
    {
        var settings = model.Projections.Lora ?? throw new InvalidOperationException("The model has no LoRA adapters to save.");
        Directory.CreateDirectory(directory);
        var tensors = model.named_parameters()
            .Where(p => LoraNames.IsAdapter(p.name))
            .ToDictionary(p => LoraNames.PeftPrefix + p.name, p => (Tensor)p.parameter.detach().to(ScalarType.Float32).cpu());
        try
        {
            TensorBridge.WriteFile(Path.Combine(directory, WeightsFile), tensors);
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }

        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = settings.R,
            ["lora_alpha"] = settings.Alpha,
            ["lora_dropout"] = settings.Dropout,
            ["target_modules"] = new JsonArray(settings.TargetModules.Select(t => (JsonNode)t).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
        };
        File.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Settings of a saved adapter (r, alpha, dropout, targets).</summary>
    public static LoraSettings ReadSettings(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        JsonObject o;
        try
        {
            o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }

        if (o["peft_type"]?.GetValue<string>() is { } type && type != "LORA")
        {
            throw new InvalidDataException($"{path}: 'peft_type' is '{type}'; only LORA adapters are supported.");
        }

        var targets = o["target_modules"] switch
        {
            JsonArray a => a.Select(n => n!.GetValue<string>()).ToList(),
            JsonValue v => [v.GetValue<string>()],
            _ => throw new InvalidDataException($"{path}: missing 'target_modules'."),
        };
        var settings = new LoraSettings
        {
            R = o["r"]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: missing 'r'."),
            Alpha = o["lora_alpha"]?.GetValue<double>() ?? throw new InvalidDataException($"{path}: missing 'lora_alpha'."),
            Dropout = o["lora_dropout"]?.GetValue<double>() ?? 0,
            TargetModules = targets,
        };
        settings.Validate();
        return settings;
    }

    /// <summary>Loads adapter weights into a model built with the same LoRA settings.</summary>
    public static void Load(string directory, LlamaForCausalLM model)
    {
        var path = Path.Combine(directory, WeightsFile);
        var tensors = TensorBridge.Read(path);
        try
        {
            using var noGrad = no_grad();
            var adapters = model.named_parameters().Where(p => LoraNames.IsAdapter(p.name)).ToList();
            if (adapters.Count == 0)
            {
                throw new InvalidOperationException("The model was built without LoRA; build it with the adapter's settings first.");
            }

            foreach (var (name, parameter) in adapters)
            {
                if (!tensors.TryGetValue(LoraNames.PeftPrefix + name, out var value) && !tensors.TryGetValue(name, out value))
                {
                    throw new InvalidDataException($"{path}: no tensor for '{LoraNames.PeftPrefix + name}'.");
                }

                if (!value.shape.SequenceEqual(parameter.shape))
                {
                    throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", value.shape)}], the model expects [{string.Join(", ", parameter.shape)}].");
                }

                parameter.copy_(value);
            }
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }
}
