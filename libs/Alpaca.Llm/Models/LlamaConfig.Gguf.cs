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

        var linearFactor = LinearRopeFactor(file, where);
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
            config.Validate(k => k.Gguf);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }

        RefuseUnsupportedParts(file, config, where);
        config = config with { RopeScaling = ReadRopeFreqs(file, config, where) };
        if (linearFactor is not null && config.RopeScaling is not null)
        {
            throw LlamaSupport.RopeScaling(where, $"both linear scaling ('llama.rope.scaling.factor') and '{RopeFreqsTensor}'");
        }

        return config with { RopeLinearFactor = linearFactor };
    }

    /// <summary>Rotated dimensions per head: <c>llama.rope.dimension_count</c>, default head_dim.</summary>
    public static int RopeDimension(GgufFile file, LlamaConfig config) =>
        (int)(file.Metadata.GetInteger("llama.rope.dimension_count") ?? config.HeadDim);

    // Llama 3.1+: rope_freqs.weight holds one F32 divisor per rotated pair. GGUF keeps no parameters, so
    // they are recovered from the values (the engine applies the tensor itself, as llama.cpp does); a
    // tensor no llama3 parameters reproduce would serve differently from how it trains, so it is refused.
    private static Llama3RopeScaling? ReadRopeFreqs(GgufFile file, LlamaConfig config, string where)
    {
        if (!file.TryGetTensor(RopeFreqsTensor, out var info))
        {
            return null;
        }

        var ropeDim = RopeDimension(file, config);
        if (info.Type != Tensors.GgmlType.F32 || info.Shape.Length != 1 || info.Shape[0] != ropeDim / 2)
        {
            throw new InvalidDataException($"{where}: tensor '{RopeFreqsTensor}' is {info.Type} [{string.Join(", ", info.Shape)}]; llama.cpp expects F32 [{ropeDim / 2}] (rotated dimensions / 2).");
        }

        var factors = file.ReadAsFloat32(info);
        var original = Int(file.Metadata, OriginalContextKey, where) ?? 8192;
        return Llama3RopeScaling.Fit(factors, ropeDim, config.RopeTheta, original)
            ?? throw LlamaSupport.RopeScaling(where, $"tensor '{RopeFreqsTensor}' holds frequency factors [{string.Join(", ", factors.Take(8).Select(f => f.ToString("G6", CultureInfo.InvariantCulture)))}{(factors.Length > 8 ? ", …" : "")}] that no llama3 rope scaling (original context {original}) reproduces");
    }

    /// <summary>llama.cpp's <c>rope.scaling.original_context_length</c>: written with llama3 scaling so its parameters are recovered exactly.</summary>
    public const string OriginalContextKey = "llama.rope.scaling.original_context_length";

    // llama.cpp's llama architecture also loads Mixtral's experts and optional projection biases; the
    // engine computes neither, and a tensor it ignores would give wrong numbers without an error.
    private static void RefuseUnsupportedParts(GgufFile file, LlamaConfig config, string where)
    {
        if (Int(file.Metadata, "llama.expert_count", where) is > 0 and var experts)
        {
            throw new InvalidDataException($"{where}: 'llama.expert_count' is {experts}: mixture-of-experts (Mixtral-style) LLaMA models are not supported.");
        }

        if (Int(file.Metadata, "llama.attention.value_length", where) is { } valueLength && valueLength != config.HeadDim)
        {
            throw new InvalidDataException($"{where}: 'llama.attention.value_length' is {valueLength} but the key head size is {config.HeadDim}: separate key and value head sizes are not supported.");
        }

        var known = LlamaTensorNames.Expected(config).Select(t => t.Name).Append(RopeFreqsTensor).ToHashSet();
        foreach (var t in file.Tensors)
        {
            if (!known.Contains(t.Name))
            {
                throw LlamaSupport.Tensor(where, t.Name, t.Name switch
                {
                    _ when t.Name.EndsWith(".bias", StringComparison.Ordinal) => "a bias on a projection",
                    _ when t.Name.Contains("_exps", StringComparison.Ordinal) || t.Name.Contains("ffn_gate_inp", StringComparison.Ordinal) => "mixture of experts",
                    _ when LlamaTensorNames.LayerOf(t.Name) >= config.NLayers => $"a block beyond 'llama.block_count' ({config.NLayers})",
                    _ => "a tensor outside the LLaMA architecture",
                });
            }
        }
    }

    // llama.cpp reads rope.scaling.type (default "linear") and applies freq_scale = 1/rope.scaling.factor (or
    // the older rope.scale_linear) when the factor is neither 0 nor 1: linear scaling, returned here. Other
    // types (YaRN, LongRoPE) are refused. Llama-3.1 files carry rope_freqs.weight instead (ReadRopeFreqs).
    private static double? LinearRopeFactor(GgufFile file, string where)
    {
        var md = file.Metadata;
        if (md.GetString("llama.rope.scaling.type") is { } type && type is not ("none" or "linear"))
        {
            throw LlamaSupport.RopeScaling(where, $"'llama.rope.scaling.type' is '{type}'");
        }

        foreach (var key in new[] { "llama.rope.scaling.factor", "llama.rope.scale_linear" })
        {
            if (md.GetNumber(key) is { } factor && factor != 0 && factor != 1)
            {
                if (!(factor > 0) || double.IsInfinity(factor))
                {
                    throw LlamaSupport.RopeScaling(where, $"'{key}' is {factor.ToString(CultureInfo.InvariantCulture)}");
                }

                return factor;
            }
        }

        return null;
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
        if (RopeScaling is { } scaling)
        {
            // Not read by llama.cpp outside YaRN; it lets FromGguf recover the parameters of a model whose
            // pre-training context was not Llama 3's 8192. The scaling itself is the rope_freqs tensor.
            md.Set(OriginalContextKey, GgufValue.UInt32((uint)scaling.OriginalContextLength));
        }

        if (RopeLinearFactor is { } linear)
        {
            // As convert_hf_to_gguf.py writes a linear rope_scaling.
            md.Set("llama.rope.scaling.type", GgufValue.String("linear"));
            md.Set("llama.rope.scaling.factor", GgufValue.Float32((float)linear));
        }
    }
}
