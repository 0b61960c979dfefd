namespace Alpaca.Llm.Models;

/// <summary>
/// The refusals shared by every way a model comes in (config.json for training and conversion, GGUF
/// metadata for serving): what neither the trainer's modules nor the inference engine compute is refused
/// with one message per feature, naming the key and the value found.
/// </summary>
public static class LlamaSupport
{
    /// <summary>Neither side implements rope scaling (linear, dynamic NTK, YaRN, Llama-3.1's rope_freqs): only plain RoPE.</summary>
    public static InvalidDataException RopeScaling(string source, string found) =>
        new($"{source}: {found}; rope scaling is not implemented (training and serving apply plain RoPE), so the model would be computed wrongly.");

    public static InvalidDataException Architecture(string source, string key, string? value) =>
        new($"{source}: '{key}' is '{value ?? "(missing)"}'; only LLaMA-architecture models are supported.");
}
