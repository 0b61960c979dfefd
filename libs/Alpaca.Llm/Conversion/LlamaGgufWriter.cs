using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// Writes a complete llama.cpp-loadable LLaMA GGUF from a config, a vocabulary and a source of float
/// weights in GGUF convention (name, ne shape, Q/K already interleaved). Tensors are pulled from the source
/// one at a time while the file is written, so memory stays at one tensor.
/// </summary>
public static class LlamaGgufWriter
{
    /// <summary>Returns per-tensor (name, type) in file order.</summary>
    public static IReadOnlyList<(string Name, GgmlType Type)> Write(
        string path, LlamaConfig config, LlamaVocabulary vocab, GgmlType type, string modelName,
        Func<string, long[], float[]> weights, Action<string>? log = null) =>
        Write(path, config, vocab, WeightRecipe.Single(type), modelName, weights, log);

    /// <summary>Writes with per-tensor types from <paramref name="recipe"/> (a single type or a llama.cpp mixture).</summary>
    public static IReadOnlyList<(string Name, GgmlType Type)> Write(
        string path, LlamaConfig config, LlamaVocabulary vocab, WeightRecipe recipe, string modelName,
        Func<string, long[], float[]> weights, Action<string>? log = null)
    {
        var type = recipe.Type;
        config.Validate();
        if (vocab.Count != config.VocabSize)
        {
            throw new ArgumentException($"The vocabulary has {vocab.Count} tokens but vocab_size is {config.VocabSize}.");
        }

        var writer = new GgufWriter();
        var md = writer.Metadata;
        md.Set("general.architecture", GgufValue.String("llama"));
        md.Set("general.name", GgufValue.String(modelName));
        config.ApplyTo(md);
        md.Set("general.file_type", GgufValue.UInt32(recipe.FileType));
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
        {
            md.Set("general.quantization_version", GgufValue.UInt32(2));
        }

        vocab.ApplyTo(md);
        var layout = new List<(string, GgmlType)>();
        if (config.RopeScaling is { } scaling)
        {
            // convert_hf_to_gguf.py writes Llama 3.1's scaling as this F32 tensor, before the weights.
            var factors = scaling.FrequencyFactors(config.HeadDim, config.RopeTheta);
            layout.Add((LlamaConfig.RopeFreqsTensor, GgmlType.F32));
            writer.AddTensor(LlamaConfig.RopeFreqsTensor, [factors.Length], GgmlType.F32, factors);
        }

        foreach (var (name, shape) in LlamaTensorNames.Expected(config))
        {
            var tensorType = recipe.TypeOf(name, shape, config);
            if (shape.Length > 1 && shape[0] % GgmlTypeInfo.Of(recipe.IsMixture ? GgmlType.Q4_K : type).BlockSize != 0)
            {
                log?.Invoke($"{name}: row length {shape[0]} is not a multiple of the {type} block size, stored as {tensorType}");
            }

            layout.Add((name, tensorType));
            writer.AddTensor(name, shape, tensorType, stream =>
            {
                var values = weights(name, shape);
                if (values.LongLength != shape.Aggregate(1L, (a, d) => a * d))
                {
                    throw new InvalidOperationException($"{name}: weight source returned {values.Length} values for shape [{string.Join(", ", shape)}].");
                }

                TinyModelFactory.WriteEncoded(stream, values, shape, tensorType);
            });
        }

        writer.WriteTo(path);
        return layout;
    }
}
