using Alpaca.Llm.Models;
using Alpaca.Llm.SafeTensors;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// Writes a Hugging Face LLaMA folder (config.json, safetensors weights, tokenizer files) from float
/// weights in GGUF convention; the inverse Q/K permutation and the shape reversal happen here.
/// </summary>
public static class LlamaHfWriter
{
    public static IReadOnlyList<string> Write(
        string directory, LlamaConfig config, LlamaVocabulary? vocab, SafeTensorsDType dtype,
        Func<string, long[], float[]> ggufWeights, long maxShardBytes = 5_000_000_000)
    {
        config.Validate();
        if (dtype is not (SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16))
        {
            throw new ArgumentException($"HF weights are written as F32, F16 or BF16, not {dtype}.");
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToHfConfigJson(SafeTensorsDTypes.TorchName(dtype)));
        var writer = new SafeTensorsCheckpointWriter { MaxShardBytes = maxShardBytes };
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
