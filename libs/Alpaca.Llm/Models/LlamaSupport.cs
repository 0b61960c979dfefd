namespace Alpaca.Llm.Models;

/// <summary>
/// The refusals shared by every way a model comes in (config.json for training and conversion, GGUF
/// metadata for serving): what neither the trainer's modules nor the inference engine compute is refused
/// with one message per feature, naming the key and the value found.
/// </summary>
public static class LlamaSupport
{
    /// <summary>Neither side implements linear, dynamic-NTK, YaRN or LongRoPE scaling: only plain RoPE and Llama 3.1's llama3 scaling.</summary>
    public static InvalidDataException RopeScaling(string source, string found) =>
        new($"{source}: {found}; rope scaling is not implemented for this kind (training and serving apply plain RoPE, linear scaling or Llama 3.1's llama3 scaling only), so the model would be computed wrongly.");

    /// <summary>A tensor llama.cpp's llama architecture may hold but this engine does not compute.</summary>
    public static InvalidDataException Tensor(string source, string name, string feature) =>
        new($"{source}: tensor '{name}' is present: {feature} is not supported (plain LLaMA blocks only), so the model would be computed wrongly.");

    public static InvalidDataException Architecture(string source, string key, string? value) =>
        new($"{source}: '{key}' is '{value ?? "(missing)"}'; only LLaMA-architecture models are supported.");
}
