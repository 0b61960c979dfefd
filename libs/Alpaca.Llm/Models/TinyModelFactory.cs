using System.Runtime.InteropServices;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Models;

/// <summary>
/// Writes random-weight LLaMA models of any shape (GQA included) for tests and benchmarks: a GGUF file
/// llama.cpp can load, and/or a Hugging Face folder (config.json, model.safetensors, tokenizer.model).
/// Weights are defined in GGUF convention (Q/K rows interleaved); the HF folder holds the same model with
/// Q/K rows in HF order, so converting either one to the other gives back the same numbers.
/// Nothing is downloaded; tensors are generated one at a time while writing.
/// </summary>
public static class TinyModelFactory
{
    /// <summary>A small model for unit tests: fast to write and to run.</summary>
    public static LlamaConfig Tiny(int dim = 64, int layers = 2, int heads = 4, int kvHeads = 2, int ffn = 192, int vocab = 384, int context = 128) =>
        new LlamaConfig
        {
            VocabSize = vocab,
            Dim = dim,
            NLayers = layers,
            NHeads = heads,
            NKvHeads = kvHeads,
            FfnDim = ffn,
            ContextLength = context,
            RmsNormEps = 1e-5f,
        }.Validate();

    /// <summary>The benchmark shapes of docs (stories15M, stories110M, tinyllama-1.1B) with a 32000-token vocabulary.</summary>
    public static LlamaConfig Shape(string name) => name.ToLowerInvariant() switch
    {
        "stories15m" => Make(288, 6, 6, 6, 768, 256),
        "stories110m" => Make(768, 12, 12, 12, 2048, 1024),
        "tinyllama-1.1b" or "tinyllama" => Make(2048, 22, 32, 4, 5632, 2048),
        "tiny" => Tiny(),
        _ => throw new ArgumentException($"Unknown model shape '{name}' (stories15M, stories110M, tinyllama-1.1B, tiny)."),
    };

    private static LlamaConfig Make(int dim, int layers, int heads, int kv, int ffn, int ctx) =>
        new LlamaConfig { VocabSize = 32000, Dim = dim, NLayers = layers, NHeads = heads, NKvHeads = kv, FfnDim = ffn, ContextLength = ctx, RmsNormEps = 1e-5f }.Validate();

    /// <summary>The float values of one tensor (GGUF name, ne shape), exactly as the writers store them before encoding.</summary>
    public static float[] Weight(TinyModelSpec spec, string ggufName, long[] shape)
    {
        var values = new float[checked((int)shape.Aggregate(1L, (a, d) => a * d))];
        var rng = new SeededNormal(spec.Seed, ggufName);
        if (shape.Length == 1 && LlamaTensorNames.IsNorm(ggufName))
        {
            if (spec.RandomNorms)
            {
                rng.Fill(values, 1f, spec.InitStd * 5);
            }
            else
            {
                values.AsSpan().Fill(1f);
            }
        }
        else
        {
            rng.Fill(values, 0f, spec.InitStd);
        }

        return values;
    }

    public static LlamaVocabulary VocabularyOf(TinyModelSpec spec)
    {
        var vocab = spec.Vocabulary ?? LlamaVocabulary.CreateByteFallback(spec.Config.VocabSize);
        if (vocab.Count != spec.Config.VocabSize)
        {
            throw new ArgumentException($"The vocabulary has {vocab.Count} tokens but the config says vocab_size {spec.Config.VocabSize}.");
        }

        return vocab.Validate();
    }

    /// <summary>Writes a GGUF model: 2-D weights in <paramref name="type"/> (F16 where rows do not fit quant blocks), norms F32.</summary>
    public static void WriteGguf(string path, TinyModelSpec spec, GgmlType type = GgmlType.F32) =>
        WriteGguf(path, spec, WeightRecipe.Single(type));

    /// <summary>Writes a GGUF model with per-tensor types from <paramref name="recipe"/> (e.g. the Q4_K_M mixture).</summary>
    public static IReadOnlyList<(string Name, GgmlType Type)> WriteGguf(string path, TinyModelSpec spec, WeightRecipe recipe) =>
        LlamaGgufWriter.Write(path, spec.Config.Validate(), VocabularyOf(spec), recipe, spec.Name, (name, shape) => Weight(spec, name, shape));

    /// <summary>
    /// Writes a Hugging Face folder: config.json, model.safetensors (sharded when over <paramref name="maxShardBytes"/>),
    /// and the tokenizer files (tokenizer.model for SentencePiece vocabularies).
    /// </summary>
    public static void WriteHf(string directory, TinyModelSpec spec, SafetensorsDType dtype = SafetensorsDType.F32, long maxShardBytes = 5_000_000_000) =>
        LlamaHfWriter.Write(directory, spec.Config.Validate(), VocabularyOf(spec), dtype, (name, shape) => Weight(spec, name, shape), maxShardBytes);

    internal static void WriteEncoded(Stream stream, float[] values, long[] shape, GgmlType type)
    {
        if (type == GgmlType.F32)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }

        var rowLength = (int)shape[0];
        var row = new byte[GgmlTypeInfo.RowBytes(type, rowLength)];
        for (var start = 0; start < values.Length; start += rowLength)
        {
            Quantizer.Quantize(type, values.AsSpan(start, rowLength), row);
            stream.Write(row);
        }
    }
}
