using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Trainer.Model;

/// <summary>
/// The fields of a Hugging Face <c>LlamaConfig</c> (<c>config.json</c>) that the architecture uses.
/// Names follow the JSON keys so that reading the two side by side is easy.
/// </summary>
public sealed record LlamaModelConfig
{
    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int IntermediateSize { get; init; } = 11008;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    public int NumKeyValueHeads { get; init; } = 32;
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    public bool TieWordEmbeddings { get; init; }
    public double InitializerRange { get; init; } = 0.02;
    public int BosTokenId { get; init; } = 1;
    public int EosTokenId { get; init; } = 2;
    public int? PadTokenId { get; init; }

    /// <summary>Per-head width; HF allows an explicit <c>head_dim</c>, otherwise hidden / heads.</summary>
    public int HeadDim { get; init; }

    public int ResolvedHeadDim => HeadDim > 0 ? HeadDim : HiddenSize / NumAttentionHeads;

    /// <summary>Checks the shape is one the modules can build, naming the offending field.</summary>
    public void Validate(string source)
    {
        static void Positive(string source, string field, long value)
        {
            if (value <= 0)
            {
                throw new InvalidDataException($"{source}: '{field}' must be positive, got {value}.");
            }
        }

        Positive(source, "vocab_size", VocabSize);
        Positive(source, "hidden_size", HiddenSize);
        Positive(source, "intermediate_size", IntermediateSize);
        Positive(source, "num_hidden_layers", NumHiddenLayers);
        Positive(source, "num_attention_heads", NumAttentionHeads);
        Positive(source, "num_key_value_heads", NumKeyValueHeads);
        if (NumAttentionHeads % NumKeyValueHeads != 0)
        {
            throw new InvalidDataException($"{source}: 'num_attention_heads' ({NumAttentionHeads}) must be a multiple of 'num_key_value_heads' ({NumKeyValueHeads}).");
        }

        if (HeadDim <= 0 && HiddenSize % NumAttentionHeads != 0)
        {
            throw new InvalidDataException($"{source}: 'hidden_size' ({HiddenSize}) must be a multiple of 'num_attention_heads' ({NumAttentionHeads}).");
        }

        if (ResolvedHeadDim % 2 != 0)
        {
            throw new InvalidDataException($"{source}: the head dimension ({ResolvedHeadDim}) must be even for rotary embeddings.");
        }
    }

    /// <summary>Parameters that sit in matrix multiplies (the FLOP count of training uses them).</summary>
    public long MatmulParameterCount()
    {
        long d = HiddenSize, hd = ResolvedHeadDim;
        long attention = (d * NumAttentionHeads * hd * 2) + (d * NumKeyValueHeads * hd * 2);
        long mlp = 3 * d * IntermediateSize;
        return (NumHiddenLayers * (attention + mlp)) + ((long)VocabSize * d);
    }

    public static LlamaModelConfig Load(string configJsonPath)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(configJsonPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configJsonPath}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }

        if (root is not JsonObject o)
        {
            throw new InvalidDataException($"{configJsonPath}: expected a JSON object.");
        }

        var modelType = o["model_type"]?.GetValue<string>();
        if (modelType is not null && modelType != "llama" && modelType != "mistral")
        {
            throw new InvalidDataException($"{configJsonPath}: 'model_type' is '{modelType}'; only LLaMA-architecture checkpoints are supported.");
        }

        if (o["rope_scaling"] is JsonObject)
        {
            throw new InvalidDataException($"{configJsonPath}: 'rope_scaling' is set; scaled rotary embeddings are not supported.");
        }

        if (o["hidden_act"]?.GetValue<string>() is { } act && act != "silu")
        {
            throw new InvalidDataException($"{configJsonPath}: 'hidden_act' is '{act}'; LLaMA uses 'silu'.");
        }

        if (o["attention_bias"]?.GetValue<bool>() == true || o["mlp_bias"]?.GetValue<bool>() == true)
        {
            throw new InvalidDataException($"{configJsonPath}: attention or MLP biases are not part of the LLaMA architecture supported here.");
        }

        var heads = Int(o, "num_attention_heads", configJsonPath, required: true)!.Value;
        var config = new LlamaModelConfig
        {
            VocabSize = Int(o, "vocab_size", configJsonPath, required: true)!.Value,
            HiddenSize = Int(o, "hidden_size", configJsonPath, required: true)!.Value,
            IntermediateSize = Int(o, "intermediate_size", configJsonPath, required: true)!.Value,
            NumHiddenLayers = Int(o, "num_hidden_layers", configJsonPath, required: true)!.Value,
            NumAttentionHeads = heads,
            NumKeyValueHeads = Int(o, "num_key_value_heads", configJsonPath, required: false) ?? heads,
            MaxPositionEmbeddings = Int(o, "max_position_embeddings", configJsonPath, required: false) ?? 2048,
            RmsNormEps = Double(o, "rms_norm_eps", configJsonPath) ?? 1e-6,
            RopeTheta = Double(o, "rope_theta", configJsonPath) ?? 10000.0,
            TieWordEmbeddings = o["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            InitializerRange = Double(o, "initializer_range", configJsonPath) ?? 0.02,
            BosTokenId = FirstInt(o["bos_token_id"]) ?? 1,
            EosTokenId = FirstInt(o["eos_token_id"]) ?? 2,
            PadTokenId = FirstInt(o["pad_token_id"]),
            HeadDim = Int(o, "head_dim", configJsonPath, required: false) ?? 0,
        };
        config.Validate(configJsonPath);
        return config;
    }

    /// <summary>
    /// Writes this shape into a Hugging Face config.json. Keys of <paramref name="original"/> that we do
    /// not model (e.g. <c>transformers_version</c>) are kept, so a round trip loses nothing.
    /// </summary>
    public JsonObject ToHfJson(JsonObject? original = null, string torchDtype = "float32")
    {
        var o = original?.DeepClone() as JsonObject ?? [];
        o["architectures"] = new JsonArray("LlamaForCausalLM");
        o["model_type"] = "llama";
        o["vocab_size"] = VocabSize;
        o["hidden_size"] = HiddenSize;
        o["intermediate_size"] = IntermediateSize;
        o["num_hidden_layers"] = NumHiddenLayers;
        o["num_attention_heads"] = NumAttentionHeads;
        o["num_key_value_heads"] = NumKeyValueHeads;
        o["max_position_embeddings"] = MaxPositionEmbeddings;
        o["rms_norm_eps"] = RmsNormEps;
        o["rope_theta"] = RopeTheta;
        o["tie_word_embeddings"] = TieWordEmbeddings;
        o["initializer_range"] = InitializerRange;
        o["hidden_act"] = "silu";
        o["attention_bias"] = false;
        o["mlp_bias"] = false;
        o["bos_token_id"] = BosTokenId;
        o["eos_token_id"] = EosTokenId;
        o["pad_token_id"] = PadTokenId is { } pad ? JsonValue.Create(pad) : null;
        if (HeadDim > 0)
        {
            o["head_dim"] = HeadDim;
        }

        o["torch_dtype"] = torchDtype;
        return o;
    }

    private static int? Int(JsonObject o, string key, string source, bool required)
    {
        var node = o[key];
        if (node is null)
        {
            return required ? throw new InvalidDataException($"{source}: missing field '{key}'.") : null;
        }

        try
        {
            return node.GetValue<int>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: field '{key}' must be an integer, got {node.ToJsonString()}.", e);
        }
    }

    private static double? Double(JsonObject o, string key, string source)
    {
        var node = o[key];
        if (node is null)
        {
            return null;
        }

        try
        {
            return node.GetValue<double>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: field '{key}' must be a number, got {node.ToJsonString()}.", e);
        }
    }

    // Llama 3 lists several EOS ids; the first is the one the template appends.
    private static int? FirstInt(JsonNode? node) => node switch
    {
        null => null,
        JsonArray a when a.Count > 0 => a[0]!.GetValue<int>(),
        JsonArray => null,
        _ => node.GetValue<int>(),
    };
}
