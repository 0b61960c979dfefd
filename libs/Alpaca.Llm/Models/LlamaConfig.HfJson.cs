using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Llm.Models;

/// <summary>Reading and writing a Hugging Face <c>config.json</c> for <c>LlamaForCausalLM</c>.</summary>
public sealed partial record LlamaConfig
{
    public const string HfConfigFileName = "config.json";

    /// <summary>Reads <paramref name="configJsonPath"/>; errors name the file.</summary>
    public static LlamaConfig ReadHfConfig(string configJsonPath) =>
        FromHfConfigJson(File.ReadAllText(configJsonPath), configJsonPath);

    /// <summary>
    /// Parses a Hugging Face LLaMA <c>config.json</c>. A missing required key, a wrong type, a shape the
    /// modules cannot build, or a feature neither the trainer nor the engine computes (another
    /// architecture, rope scaling, biases, another activation, a sliding window) is refused naming the key.
    /// </summary>
    public static LlamaConfig FromHfConfigJson(string json, string source = HfConfigFileName)
    {
        var root = ParseObject(json, source);
        var modelType = String(root, "model_type", source);
        if (modelType is not (null or "llama" or "mistral"))
        {
            throw LlamaSupport.Architecture(source, "model_type", modelType);
        }

        RefuseUnsupported(root, source);
        var ropeScaling = RopeScalingOf(root, source);
        int Required(LlamaConfigKey key) => Int(root, key.Hf, source) ?? throw new InvalidDataException($"{source}: required key '{key.Hf}' is missing.");

        var nHeads = Required(LlamaConfigKeys.NumAttentionHeads);
        var config = new LlamaConfig
        {
            VocabSize = Required(LlamaConfigKeys.VocabSize),
            Dim = Required(LlamaConfigKeys.HiddenSize),
            NLayers = Required(LlamaConfigKeys.NumHiddenLayers),
            NHeads = nHeads,
            NKvHeads = Int(root, LlamaConfigKeys.NumKeyValueHeads.Hf, source) ?? nHeads,
            FfnDim = Required(LlamaConfigKeys.IntermediateSize),
            ContextLength = Int(root, LlamaConfigKeys.MaxPositionEmbeddings.Hf, source) ?? 2048,
            RmsNormEps = (float)(Double(root, LlamaConfigKeys.RmsNormEps.Hf, source) ?? 1e-6),
            RopeTheta = (float)(Double(root, LlamaConfigKeys.RopeTheta.Hf, source) ?? 10000.0),
            TiedEmbeddings = Bool(root, "tie_word_embeddings", source) ?? false,
            RopeScaling = ropeScaling,
            RopeLinearFactor = LinearRopeFactorOf(root, source),
            BosTokenId = TokenId(root, "bos_token_id", source) ?? 1,
            EosTokenId = TokenId(root, "eos_token_id", source) ?? 2,
            PadTokenId = TokenId(root, "pad_token_id", source),
            InitializerRange = Double(root, "initializer_range", source) ?? 0.02,
        };
        config = config with { HeadDim = ExplicitHeadDim(Int(root, LlamaConfigKeys.HeadDim.Hf, source), config) };

        // Mistral is LLaMA plus a sliding attention window; with no window, or one at least as long as the
        // context, the two compute the same thing.
        if (modelType == "mistral" && Int(root, "sliding_window", source) is { } window && window < config.ContextLength)
        {
            throw new InvalidDataException($"{source}: 'sliding_window' is {window} (below max_position_embeddings {config.ContextLength}); sliding-window attention is not implemented.");
        }

        try
        {
            return config.Validate(k => k.Hf);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    // transformers' rope_type "default" (older files: "type") is plain RoPE and "llama3" is Llama 3.1's
    // scaling (every key required, as transformers' _validate_llama3_parameters does); the rest is refused.
    private static Llama3RopeScaling? RopeScalingOf(JsonObject root, string source)
    {
        switch (root["rope_scaling"])
        {
            case null:
                return null;
            case JsonObject o when (String(o, "rope_type", source) ?? String(o, "type", source)) is "default" or "linear":
                return null; // linear: LinearRopeFactorOf
            case JsonObject o when (String(o, "rope_type", source) ?? String(o, "type", source)) is Llama3RopeScaling.RopeType:
                var where = $"{source}: rope_scaling";
                double Need(string key) => Double(o, key, where) ?? throw new InvalidDataException($"{source}: 'rope_scaling' of type llama3 needs '{key}'.");
                return new Llama3RopeScaling
                {
                    Factor = Need("factor"),
                    LowFreqFactor = Need("low_freq_factor"),
                    HighFreqFactor = Need("high_freq_factor"),
                    OriginalContextLength = Int(o, "original_max_position_embeddings", where)
                        ?? throw new InvalidDataException($"{source}: 'rope_scaling' of type llama3 needs 'original_max_position_embeddings'."),
                }.Validate(source);
            case var other:
                throw LlamaSupport.RopeScaling(source, $"'rope_scaling' is {other.ToJsonString()}");
        }
    }

    // transformers' linear scaling: {"type" (or "rope_type"): "linear", "factor": f}, factor required.
    private static double? LinearRopeFactorOf(JsonObject root, string source) =>
        root["rope_scaling"] is JsonObject o && (String(o, "rope_type", source) ?? String(o, "type", source)) is "linear"
            ? Double(o, "factor", $"{source}: rope_scaling") ?? throw new InvalidDataException($"{source}: 'rope_scaling' of type linear needs 'factor'.")
            : null;

    private static void RefuseUnsupported(JsonObject root, string source)
    {
        if (String(root, "hidden_act", source) is { } act && act != "silu")
        {
            throw new InvalidDataException($"{source}: 'hidden_act' is '{act}'; LLaMA uses 'silu'.");
        }

        foreach (var key in new[] { "attention_bias", "mlp_bias" })
        {
            if (Bool(root, key, source) == true)
            {
                throw new InvalidDataException($"{source}: '{key}' is true; biased projections are not part of the LLaMA architecture supported here.");
            }
        }
    }

    /// <summary>
    /// A transformers-compatible <c>config.json</c>. Keys of <paramref name="original"/> that are not modelled
    /// here (e.g. <c>transformers_version</c>) are kept, as <c>save_pretrained</c> keeps them.
    /// </summary>
    public string ToHfConfigJson(string torchDtype = "float32", JsonObject? original = null)
    {
        var o = original?.DeepClone() as JsonObject ?? [];
        o["architectures"] = new JsonArray("LlamaForCausalLM");
        o["model_type"] = "llama";
        o[LlamaConfigKeys.VocabSize.Hf] = VocabSize;
        o[LlamaConfigKeys.HiddenSize.Hf] = Dim;
        o[LlamaConfigKeys.IntermediateSize.Hf] = FfnDim;
        o[LlamaConfigKeys.NumHiddenLayers.Hf] = NLayers;
        o[LlamaConfigKeys.NumAttentionHeads.Hf] = NHeads;
        o[LlamaConfigKeys.NumKeyValueHeads.Hf] = NKvHeads;
        o[LlamaConfigKeys.HeadDim.Hf] = HeadDim;
        o[LlamaConfigKeys.MaxPositionEmbeddings.Hf] = ContextLength;
        o[LlamaConfigKeys.RmsNormEps.Hf] = RmsNormEps;
        o[LlamaConfigKeys.RopeTheta.Hf] = RopeTheta;
        o["tie_word_embeddings"] = TiedEmbeddings;
        o["initializer_range"] = InitializerRange;
        o["bos_token_id"] = BosTokenId;
        o["eos_token_id"] = EosTokenId;
        o["pad_token_id"] = PadTokenId is { } pad ? JsonValue.Create(pad) : null;
        o["hidden_act"] = "silu";
        o["attention_bias"] = false;
        o["mlp_bias"] = false;
        o["rope_scaling"] = RopeScaling?.ToJson()
            ?? (RopeLinearFactor is { } linear ? new JsonObject { ["rope_type"] = "linear", ["factor"] = linear } : null);
        o["torch_dtype"] = torchDtype;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject ParseObject(string json, string source)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: the top level is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    private static T? Value<T>(JsonObject o, string key, string source, string kind)
        where T : struct
    {
        var node = o[key];
        if (node is null)
        {
            return null;
        }

        try
        {
            return node.GetValue<T>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: key '{key}' must be {kind}, found {node.ToJsonString()}.", e);
        }
    }

    private static int? Int(JsonObject o, string key, string source) => Value<int>(o, key, source, "an integer");

    private static double? Double(JsonObject o, string key, string source) => Value<double>(o, key, source, "a number");

    private static bool? Bool(JsonObject o, string key, string source) => Value<bool>(o, key, source, "true or false");

    private static string? String(JsonObject o, string key, string source)
    {
        var node = o[key];
        try
        {
            return node?.GetValue<string>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: key '{key}' must be a string, found {node!.ToJsonString()}.", e);
        }
    }

    // Llama 3 lists several EOS ids (eos_token_id: [128001, 128008, 128009]); the first is the one the
    // template appends. An empty list means no id, as null does.
    private static int? TokenId(JsonObject o, string key, string source) => o[key] switch
    {
        JsonArray { Count: 0 } => null,
        JsonArray a => Value<int>(new JsonObject { [key] = a[0]?.DeepClone() }, key, source, "an integer or a list of integers"),
        _ => Value<int>(o, key, source, "an integer or a list of integers"),
    };
}
