using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Llm.Gguf;

namespace Alpaca.Llm.Models;

/// <summary>
/// The hyper-parameters of a LLaMA model, readable from GGUF metadata (<c>llama.*</c> keys) and from a
/// Hugging Face <c>config.json</c>, and writable to both. Names follow llama2.c; the HF/GGUF key of each
/// is in its comment.
/// </summary>
public sealed record LlamaConfig
{
    private readonly int _headDim;

    /// <summary>vocab_size / llama.vocab_size.</summary>
    public required int VocabSize { get; init; }

    /// <summary>hidden_size / llama.embedding_length.</summary>
    public required int Dim { get; init; }

    /// <summary>num_hidden_layers / llama.block_count.</summary>
    public required int NLayers { get; init; }

    /// <summary>num_attention_heads / llama.attention.head_count.</summary>
    public required int NHeads { get; init; }

    /// <summary>num_key_value_heads / llama.attention.head_count_kv (GQA when below NHeads).</summary>
    public required int NKvHeads { get; init; }

    /// <summary>intermediate_size / llama.feed_forward_length.</summary>
    public required int FfnDim { get; init; }

    /// <summary>max_position_embeddings / llama.context_length.</summary>
    public int ContextLength { get; init; } = 2048;

    /// <summary>rms_norm_eps / llama.attention.layer_norm_rms_epsilon.</summary>
    public float RmsNormEps { get; init; } = 1e-5f;

    /// <summary>rope_theta / llama.rope.freq_base.</summary>
    public float RopeTheta { get; init; } = 10000f;

    /// <summary>tie_word_embeddings: the LM head reuses token_embd (no output.weight tensor).</summary>
    public bool TiedEmbeddings { get; init; }

    public int BosTokenId { get; init; } = 1;

    public int EosTokenId { get; init; } = 2;

    /// <summary>head_dim / llama.attention.key_length; defaults to Dim / NHeads.</summary>
    public int HeadDim
    {
        get => _headDim != 0 ? _headDim : NHeads == 0 ? 0 : Dim / NHeads;
        init => _headDim = value;
    }

    public int KvDim => NKvHeads * HeadDim;

    /// <summary>Query heads per KV head.</summary>
    public int GqaGroupSize => NHeads / NKvHeads;

    /// <summary>Number of weights (an untied output counts separately).</summary>
    public long ParameterCount => LlamaTensorNames.Expected(this).Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d));

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when the shape is not a valid LLaMA.</summary>
    public LlamaConfig Validate()
    {
        Positive(VocabSize, nameof(VocabSize));
        Positive(Dim, nameof(Dim));
        Positive(NLayers, nameof(NLayers));
        Positive(NHeads, nameof(NHeads));
        Positive(NKvHeads, nameof(NKvHeads));
        Positive(FfnDim, nameof(FfnDim));
        Positive(ContextLength, nameof(ContextLength));
        if (_headDim == 0 && Dim % NHeads != 0)
        {
            throw new ArgumentException($"Dim {Dim} is not divisible by NHeads {NHeads}.");
        }

        if (NHeads % NKvHeads != 0)
        {
            throw new ArgumentException($"NHeads {NHeads} is not a multiple of NKvHeads {NKvHeads}.");
        }

        if (HeadDim % 2 != 0)
        {
            throw new ArgumentException($"HeadDim {HeadDim} must be even for RoPE.");
        }

        if (!(RmsNormEps > 0) || !(RopeTheta > 0))
        {
            throw new ArgumentException($"RmsNormEps ({RmsNormEps}) and RopeTheta ({RopeTheta}) must be positive.");
        }

        return this;

        static void Positive(int v, string name)
        {
            if (v <= 0)
            {
                throw new ArgumentException($"{name} must be positive, got {v}.");
            }
        }
    }

    /// <summary>Reads the <c>{arch}.*</c> hyper-parameters of a GGUF LLaMA file (arch is normally "llama").</summary>
    public static LlamaConfig FromGguf(GgufFile file)
    {
        var md = file.Metadata;
        var where = file.Path ?? "GGUF";
        var arch = md.GetString("general.architecture")
            ?? throw new InvalidDataException($"{where}: metadata key 'general.architecture' is missing.");

        int Required(string key) => Int(md, $"{arch}.{key}", where) ?? throw new InvalidDataException($"{where}: metadata key '{arch}.{key}' is missing.");

        var nHeads = Required("attention.head_count");
        var hasOutput = file.TryGetTensor(LlamaTensorNames.Output, out _);
        var vocab = Int(md, $"{arch}.vocab_size", where)
            ?? md.GetArray<string>("tokenizer.ggml.tokens")?.Length
            ?? (file.TryGetTensor(LlamaTensorNames.TokenEmbedding, out var emb) && emb.Shape.Length == 2 ? (int?)emb.Shape[1] : null)
            ?? throw new InvalidDataException($"{where}: cannot tell the vocabulary size ({arch}.vocab_size, tokenizer.ggml.tokens and token_embd.weight are all missing).");

        var config = new LlamaConfig
        {
            VocabSize = vocab,
            Dim = Required("embedding_length"),
            NLayers = Required("block_count"),
            NHeads = nHeads,
            NKvHeads = Int(md, $"{arch}.attention.head_count_kv", where) ?? nHeads,
            FfnDim = Required("feed_forward_length"),
            ContextLength = Required("context_length"),
            RmsNormEps = (float)(md.GetNumber($"{arch}.attention.layer_norm_rms_epsilon")
                ?? throw new InvalidDataException($"{where}: metadata key '{arch}.attention.layer_norm_rms_epsilon' is missing.")),
            RopeTheta = (float)(md.GetNumber($"{arch}.rope.freq_base") ?? 10000.0),
            TiedEmbeddings = !hasOutput,
            BosTokenId = Int(md, "tokenizer.ggml.bos_token_id", where) ?? 1,
            EosTokenId = Int(md, "tokenizer.ggml.eos_token_id", where) ?? 2,
        };
        config = config with { HeadDim = ExplicitHeadDim(Int(md, $"{arch}.attention.key_length", where), config) };
        try
        {
            return config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
    }

    // A head_dim equal to the default is not stored, so configs read from different sources compare equal.
    private static int ExplicitHeadDim(int? headDim, LlamaConfig c) =>
        headDim is { } h && (c.NHeads == 0 || h != c.Dim / c.NHeads) ? h : 0;

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
            throw new InvalidDataException($"{where}: metadata key '{key}' must be an integer that fits int32, found {v.Type} {v}.", e);
        }
    }

    /// <summary>Writes the llama.cpp hyper-parameter keys (and the BOS/EOS ids) into GGUF metadata.</summary>
    public void ApplyTo(GgufMetadata md, string architecture = "llama")
    {
        var a = architecture;
        md.Set("general.architecture", GgufValue.String(a));
        md.Set($"{a}.vocab_size", GgufValue.UInt32((uint)VocabSize));
        md.Set($"{a}.context_length", GgufValue.UInt32((uint)ContextLength));
        md.Set($"{a}.embedding_length", GgufValue.UInt32((uint)Dim));
        md.Set($"{a}.block_count", GgufValue.UInt32((uint)NLayers));
        md.Set($"{a}.feed_forward_length", GgufValue.UInt32((uint)FfnDim));
        md.Set($"{a}.rope.dimension_count", GgufValue.UInt32((uint)HeadDim));
        md.Set($"{a}.attention.head_count", GgufValue.UInt32((uint)NHeads));
        md.Set($"{a}.attention.head_count_kv", GgufValue.UInt32((uint)NKvHeads));
        if (_headDim != 0 && _headDim != Dim / NHeads)
        {
            md.Set($"{a}.attention.key_length", GgufValue.UInt32((uint)HeadDim));
            md.Set($"{a}.attention.value_length", GgufValue.UInt32((uint)HeadDim));
        }

        md.Set($"{a}.attention.layer_norm_rms_epsilon", GgufValue.Float32(RmsNormEps));
        md.Set($"{a}.rope.freq_base", GgufValue.Float32(RopeTheta));
    }

    /// <summary>Parses a Hugging Face LLaMA <c>config.json</c>. Missing required keys are named in the error.</summary>
    public static LlamaConfig FromHfConfigJson(string json, string source = "config.json")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: the top level is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }

        int Required(string key) => HfInt(root, key, source) ?? throw new InvalidDataException($"{source}: required key '{key}' is missing.");

        var nHeads = Required("num_attention_heads");
        var config = new LlamaConfig
        {
            VocabSize = Required("vocab_size"),
            Dim = Required("hidden_size"),
            NLayers = Required("num_hidden_layers"),
            NHeads = nHeads,
            NKvHeads = HfInt(root, "num_key_value_heads", source) ?? nHeads,
            FfnDim = Required("intermediate_size"),
            ContextLength = HfInt(root, "max_position_embeddings", source) ?? 2048,
            RmsNormEps = (float)(HfDouble(root, "rms_norm_eps", source) ?? 1e-6),
            RopeTheta = (float)(HfDouble(root, "rope_theta", source) ?? 10000.0),
            TiedEmbeddings = root["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            BosTokenId = HfInt(root, "bos_token_id", source) ?? 1,
            EosTokenId = HfInt(root, "eos_token_id", source) ?? 2,
        };
        config = config with { HeadDim = ExplicitHeadDim(HfInt(root, "head_dim", source), config) };
        try
        {
            return config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    // eos_token_id may be a list (Llama 3.1); the first id is the primary one.
    private static int? HfInt(JsonObject root, string key, string source)
    {
        var node = root[key];
        if (node is JsonArray { Count: > 0 } array)
        {
            node = array[0];
        }

        if (node is null)
        {
            return null;
        }

        try
        {
            return node.GetValue<int>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: key '{key}' must be an integer, found {node.ToJsonString()}.", e);
        }
    }

    private static double? HfDouble(JsonObject root, string key, string source)
    {
        var node = root[key];
        if (node is null)
        {
            return null;
        }

        try
        {
            return node.GetValue<double>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: key '{key}' must be a number, found {node.ToJsonString()}.", e);
        }
    }

    /// <summary>A transformers-compatible <c>config.json</c> for <c>LlamaForCausalLM</c>.</summary>
    public string ToHfConfigJson(string torchDtype = "float32")
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = Dim,
            ["intermediate_size"] = FfnDim,
            ["num_hidden_layers"] = NLayers,
            ["num_attention_heads"] = NHeads,
            ["num_key_value_heads"] = NKvHeads,
            ["head_dim"] = HeadDim,
            ["max_position_embeddings"] = ContextLength,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TiedEmbeddings,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["hidden_act"] = "silu",
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["rope_scaling"] = null,
            ["torch_dtype"] = torchDtype,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
