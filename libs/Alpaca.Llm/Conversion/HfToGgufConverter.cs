using System.Diagnostics;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Conversion;

/// <summary>
/// Hugging Face LLaMA checkpoint (config.json + safetensors, single or sharded, F32/F16/BF16) → GGUF,
/// as llama.cpp's <c>convert_hf_to_gguf.py</c> does it: Wq/Wk rows permuted to interleaved RoPE pairs,
/// 2-D weights encoded in the requested type, norms kept F32, vocabulary from tokenizer.model/tokenizer.json.
/// </summary>
public static class HfToGgufConverter
{
    /// <summary>HF tensors llama.cpp has no use for (precomputed RoPE tables of old checkpoints).</summary>
    private static bool IsIgnorable(string hfName) => hfName.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    public static ConversionReport Convert(string hfDirectory, string ggufPath, GgmlType type, string? vocabularyPath = null, Action<string>? log = null) =>
        Convert(hfDirectory, ggufPath, WeightRecipe.Single(type), vocabularyPath, log);

    /// <summary>Converts with per-tensor types from <paramref name="recipe"/> (a single type or a llama.cpp mixture).</summary>
    public static ConversionReport Convert(string hfDirectory, string ggufPath, WeightRecipe recipe, string? vocabularyPath = null, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        var configPath = Path.Combine(hfDirectory, "config.json");
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"{hfDirectory}: config.json not found; expected a Hugging Face model folder.", configPath);
        }

        var config = LlamaConfig.ReadHfConfig(configPath);
        using var checkpoint = SafetensorsCheckpoint.Open(hfDirectory);
        if (!config.TiedEmbeddings && !checkpoint.Contains(LlamaTensorNames.Hf.Output))
        {
            log?.Invoke($"{LlamaTensorNames.Hf.Output} is absent: the output layer is tied to the token embeddings");
            config = config with { TiedEmbeddings = true };
        }

        CheckTensors(checkpoint, config);
        var vocab = FitVocabulary(LoadVocabulary(hfDirectory, vocabularyPath), config, log);
        var layout = LlamaGgufWriter.Write(ggufPath, config, vocab, recipe, Path.GetFileName(Path.GetFullPath(hfDirectory).TrimEnd('/')), (name, ne) =>
        {
            var values = checkpoint.ReadAsFloat32(LlamaTensorNames.GgufToHf(name)!);
            return HfConvention.ToGguf(name, values, ne, config);
        }, log);
        return new ConversionReport(hfDirectory, ggufPath, "HF -> GGUF", recipe.Name, layout.Count, new FileInfo(ggufPath).Length, clock.Elapsed);
    }

    private static void CheckTensors(SafetensorsCheckpoint checkpoint, LlamaConfig config)
    {
        var expected = LlamaTensorNames.Expected(config).ToDictionary(t => LlamaTensorNames.GgufToHf(t.Name)!, t => t.Shape);
        foreach (var (hfName, ne) in expected)
        {
            if (!checkpoint.TryGetTensor(hfName, out var file, out var info))
            {
                throw new InvalidDataException($"{checkpoint.Location}: tensor '{hfName}' is missing (config.json describes {config.NLayers} layers).");
            }

            var hfShape = ne.Reverse().ToArray();
            if (!info.Shape.SequenceEqual(hfShape))
            {
                throw new InvalidDataException($"{file.Path}: tensor '{hfName}' has shape [{string.Join(", ", info.Shape)}], config.json implies [{string.Join(", ", hfShape)}].");
            }

            if (info.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64))
            {
                throw new InvalidDataException($"{file.Path}: tensor '{hfName}' is {info.DType}; only floating-point weights can be converted.");
            }
        }

        foreach (var name in checkpoint.TensorNames)
        {
            if (!expected.ContainsKey(name) && !IsIgnorable(name) && !(name == LlamaTensorNames.Hf.Output && config.TiedEmbeddings))
            {
                throw new InvalidDataException($"{checkpoint.Location}: tensor '{name}' has no place in a LLaMA GGUF (not a plain LLaMA checkpoint?).");
            }
        }
    }

    /// <summary>The vocabulary from an explicit file (.gguf, tokenizer.model, tokenizer.json) or the model folder.</summary>
    public static LlamaVocabulary LoadVocabulary(string hfDirectory, string? vocabularyPath)
    {
        if (vocabularyPath is not null)
        {
            return TokenizerFile.Read(vocabularyPath);
        }

        return HfTokenizerFiles.Read(hfDirectory)
            ?? throw new FileNotFoundException($"{hfDirectory}: no tokenizer.model or tokenizer.json; llama.cpp cannot load a GGUF without a vocabulary (pass one with --vocab).");
    }

    /// <summary>
    /// Makes the vocabulary match vocab_size: an embedding table larger than the tokenizer (padded for speed)
    /// gets unused &lt;pad_N&gt; pieces, as llama.cpp's converter adds; BOS/EOS come from config.json.
    /// </summary>
    internal static LlamaVocabulary FitVocabulary(LlamaVocabulary vocab, LlamaConfig config, Action<string>? log)
    {
        if (vocab.Count > config.VocabSize)
        {
            throw new InvalidDataException($"The tokenizer has {vocab.Count} tokens but the model's vocab_size is {config.VocabSize}.");
        }

        if (vocab.Count < config.VocabSize)
        {
            var extra = config.VocabSize - vocab.Count;
            log?.Invoke($"padding the vocabulary with {extra} unused tokens to vocab_size {config.VocabSize}");
            vocab = vocab with
            {
                Tokens = [.. vocab.Tokens, .. Enumerable.Range(0, extra).Select(i => $"<pad_{i}>")],
                Scores = vocab.Scores is null ? null : [.. vocab.Scores, .. Enumerable.Repeat(-1e9f, extra)],
                Types = [.. vocab.Types, .. Enumerable.Repeat(TokenType.Unused, extra)],
            };
        }

        return vocab with
        {
            BosTokenId = config.BosTokenId < vocab.Count ? config.BosTokenId : vocab.BosTokenId,
            EosTokenId = config.EosTokenId < vocab.Count ? config.EosTokenId : vocab.EosTokenId,
        };
    }
}
