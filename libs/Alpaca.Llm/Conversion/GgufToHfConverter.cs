using System.Diagnostics;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// GGUF LLaMA → Hugging Face folder: every tensor decoded to float (any type the reference codecs read,
/// Q4_K/Q6_K included), Wq/Wk rows put back in HF order, written as F32/F16/BF16 safetensors with
/// config.json and the tokenizer files.
/// </summary>
public static class GgufToHfConverter
{
    public static ConversionReport Convert(string ggufPath, string hfDirectory, SafetensorsDType dtype, long maxShardBytes = 5_000_000_000, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        using var gguf = GgufFile.Open(ggufPath);
        var config = LlamaConfig.FromGguf(gguf);
        var vocab = LlamaVocabulary.FromGguf(gguf.Metadata, ggufPath);
        if (vocab is null)
        {
            log?.Invoke($"{ggufPath} has no vocabulary; writing weights and config only");
        }

        foreach (var (name, ne) in LlamaTensorNames.Expected(config))
        {
            var info = gguf.TryGetTensor(name, out var t) ? t : throw new InvalidDataException($"{ggufPath}: tensor '{name}' is missing.");
            if (!info.Shape.SequenceEqual(ne))
            {
                throw new InvalidDataException($"{ggufPath}: tensor '{name}' has ne [{string.Join(", ", info.Shape)}], the metadata implies [{string.Join(", ", ne)}].");
            }
        }

        var files = LlamaHfWriter.Write(hfDirectory, config, vocab, dtype, (name, _) => gguf.ReadAsFloat32(gguf.GetTensor(name)), maxShardBytes);
        var bytes = files.Sum(f => new FileInfo(f).Length);
        return new ConversionReport(ggufPath, hfDirectory, "GGUF -> HF", dtype.ToString(), LlamaTensorNames.Expected(config).Count, bytes, clock.Elapsed);
    }
}
