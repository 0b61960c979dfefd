using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// Writes a Hugging Face LLaMA folder (config.json, safetensors weights, tokenizer files) from float
/// weights in GGUF convention; the inverse Q/K permutation and the shape reversal happen here.
/// </summary>
public static class LlamaHfWriter
{
    public static IReadOnlyList<string> Write(
        string directory, LlamaConfig config, LlamaVocabulary? vocab, SafetensorsDType dtype,
        Func<string, long[], float[]> ggufWeights, long maxShardBytes = 5_000_000_000)
    {
        config.Validate();
        if (dtype is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16))
        {
            throw new ArgumentException($"HF weights are written as F32, F16 or BF16, not {dtype}.");
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToHfConfigJson(SafetensorsDTypes.TorchName(dtype)));
        var writer = new SafetensorsCheckpointWriter { MaxShardBytes = maxShardBytes };
        foreach (var (name, shape) in LlamaTensorNames.Expected(config))
        {
            var hfName = LlamaTensorNames.GgufToHf(name)!;
            writer.Add(hfName, dtype, shape.Reverse().ToArray(), stream =>
                HfConvention.WriteFloats(stream, HfConvention.FromGguf(name, ggufWeights(name, shape), shape, config), dtype));
        }

        var files = writer.WriteTo(directory);
        if (vocab is not null)
        {
            HfTokenizerFiles.Write(directory, vocab);
        }

        return files;
    }
}
