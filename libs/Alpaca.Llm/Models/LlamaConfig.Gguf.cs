using System.Globalization;
using Alpaca.Llm.Gguf;

namespace Alpaca.Llm.Models;

/// <summary>Reading and writing the <c>llama.*</c> hyper-parameters of GGUF metadata, as llama.cpp's loader reads them.</summary>
public sealed partial record LlamaConfig
{
    /// <summary>The tensor convert_hf_to_gguf.py writes for Llama-3.1's rope scaling (per-frequency factors).</summary>
    public const string RopeFreqsTensor = "rope_freqs.weight";

    /// <summary>Reads the <c>llama.*</c> hyper-parameters of a GGUF LLaMA file, refusing what the engine does not compute.</summary>
    public static LlamaConfig FromGguf(GgufFile file)
    {
        var md = file.Metadata;
        var where = file.Path ?? "GGUF";
        if (md.GetString("general.architecture") is not "llama")
        {
            throw LlamaSupport.Architecture(where, "general.architecture", md.GetString("general.architecture"));
        }

        RefuseRopeScaling(file, where);
        int Required(LlamaConfigKey key) => Int(md, key.Gguf, where) ?? throw new InvalidDataException($"{where}: required key '{key.Gguf}' is missing.");

        var nHeads = Required(LlamaConfigKeys.NumAttentionHeads);
        var hasOutput = file.TryGetTensor(LlamaTensorNames.Output, out _);
        var vocab = Int(md, LlamaConfigKeys.VocabSize.Gguf, where)
            ?? md.GetArray<string>("tokenizer.ggml.tokens")?.Length
            ?? (file.TryGetTensor(LlamaTensorNames.TokenEmbedding, out var emb) && emb.Shape.Length == 2 ? (int?)emb.Shape[1] : null)
            ?? throw new InvalidDataException($"{where}: cannot tell the vocabulary size ({LlamaConfigKeys.VocabSize.Gguf}, tokenizer.ggml.tokens and token_embd.weight are all missing).");

        var config = new LlamaConfig
        {
            VocabSize = vocab,
            Dim = Required(LlamaConfigKeys.HiddenSize),
            NLayers = Required(LlamaConfigKeys.NumHiddenLayers),
            NHeads = nHeads,
            NKvHeads = Int(md, LlamaConfigKeys.NumKeyValueHeads.Gguf, where) ?? nHeads,
            FfnDim = Required(LlamaConfigKeys.IntermediateSize),
            ContextLength = Required(LlamaConfigKeys.MaxPositionEmbeddings),
            RmsNormEps = (float)(md.GetNumber(LlamaConfigKeys.RmsNormEps.Gguf)
                ?? throw new InvalidDataException($"{where}: required key '{LlamaConfigKeys.RmsNormEps.Gguf}' is missing.")),
            RopeTheta = (float)(md.GetNumber(LlamaConfigKeys.RopeTheta.Gguf) ?? 10000.0),
            TiedEmbeddings = !hasOutput,
            BosTokenId = Int(md, "tokenizer.ggml.bos_token_id", where) ?? 1,
            EosTokenId = Int(md, "tokenizer.ggml.eos_token_id", where) ?? 2,
        };
        config = config with { HeadDim = ExplicitHeadDim(Int(md, LlamaConfigKeys.HeadDim.Gguf, where), config) };
        try
        {
            return config.Validate(k => k.Gguf);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
    }

    // llama.cpp reads rope.scaling.type (default "linear") and applies 1/rope.scaling.factor (or the older
    // rope.scale_linear) when the factor is neither 0 nor 1; Llama-3.1 files carry rope_freqs.weight instead.
    private static void RefuseRopeScaling(GgufFile file, string where)
    {
        var md = file.Metadata;
        foreach (var key in new[] { "llama.rope.scaling.factor", "llama.rope.scale_linear" })
        {
            if (md.GetNumber(key) is { } factor && factor != 0 && factor != 1)
            {
                throw LlamaSupport.RopeScaling(where, $"'{key}' is {factor.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        if (md.GetString("llama.rope.scaling.type") is { } type && type is not ("none" or "linear"))
        {
            throw LlamaSupport.RopeScaling(where, $"'llama.rope.scaling.type' is '{type}'");
        }

        if (file.TryGetTensor(RopeFreqsTensor, out _))
        {
            throw LlamaSupport.RopeScaling(where, $"tensor '{RopeFreqsTensor}' is present");
        }
    }

    // llama.cpp accepts either a scalar or a per-layer array for some hparams; we need them uniform.
    private static int? Int(GgufMetadata md, string key, string where)
    {
        if (!md.TryGetValue(key, out var v))
        {
            return null;
        }

        try
        {
            if (v.IsArray)
            {
                var values = ((System.Collections.IEnumerable)v.RawValue).Cast<object>().Select(o => Convert.ToInt64(o, CultureInfo.InvariantCulture)).Distinct().ToList();
                return values.Count == 1 ? checked((int)values[0]) : throw new InvalidDataException($"{where}: '{key}' varies per layer, which this engine does not support.");
            }

            return checked((int)v.ToInt64());
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException)
        {
            throw new InvalidDataException($"{where}: key '{key}' must be an integer that fits int32, found {v.Type} {v}.", e);
        }
    }

    /// <summary>Writes the llama.cpp hyper-parameter keys into GGUF metadata (the vocabulary writer adds BOS/EOS).</summary>
    public void ApplyTo(GgufMetadata md)
    {
        md.Set("general.architecture", GgufValue.String("llama"));
        md.Set(LlamaConfigKeys.VocabSize.Gguf, GgufValue.UInt32((uint)VocabSize));
        md.Set(LlamaConfigKeys.MaxPositionEmbeddings.Gguf, GgufValue.UInt32((uint)ContextLength));
        md.Set(LlamaConfigKeys.HiddenSize.Gguf, GgufValue.UInt32((uint)Dim));
        md.Set(LlamaConfigKeys.NumHiddenLayers.Gguf, GgufValue.UInt32((uint)NLayers));
        md.Set(LlamaConfigKeys.IntermediateSize.Gguf, GgufValue.UInt32((uint)FfnDim));
        md.Set("llama.rope.dimension_count", GgufValue.UInt32((uint)HeadDim));
        md.Set(LlamaConfigKeys.NumAttentionHeads.Gguf, GgufValue.UInt32((uint)NHeads));
        md.Set(LlamaConfigKeys.NumKeyValueHeads.Gguf, GgufValue.UInt32((uint)NKvHeads));
        if (_headDim != 0 && _headDim != Dim / NHeads)
        {
            md.Set(LlamaConfigKeys.HeadDim.Gguf, GgufValue.UInt32((uint)HeadDim));
            md.Set("llama.attention.value_length", GgufValue.UInt32((uint)HeadDim));
        }

        md.Set(LlamaConfigKeys.RmsNormEps.Gguf, GgufValue.Float32(RmsNormEps));
        md.Set(LlamaConfigKeys.RopeTheta.Gguf, GgufValue.Float32(RopeTheta));
    }
}
