namespace Alpaca.Llm.Models;

/// <summary>One hyper-parameter's name in a Hugging Face <c>config.json</c> and in GGUF metadata (after <c>llama.</c>).</summary>
public sealed record LlamaConfigKey(string Hf, string GgufSuffix)
{
    public string Gguf => "llama." + GgufSuffix;
}

/// <summary>
/// The keys <see cref="LlamaConfig"/> reads and writes, in one table, so that the config.json reader, the
/// GGUF reader and the validation name the same field the same way.
/// </summary>
public static class LlamaConfigKeys
{
    public static readonly LlamaConfigKey VocabSize = new("vocab_size", "vocab_size");
    public static readonly LlamaConfigKey HiddenSize = new("hidden_size", "embedding_length");
    public static readonly LlamaConfigKey NumHiddenLayers = new("num_hidden_layers", "block_count");
    public static readonly LlamaConfigKey NumAttentionHeads = new("num_attention_heads", "attention.head_count");
    public static readonly LlamaConfigKey NumKeyValueHeads = new("num_key_value_heads", "attention.head_count_kv");
    public static readonly LlamaConfigKey IntermediateSize = new("intermediate_size", "feed_forward_length");
    public static readonly LlamaConfigKey MaxPositionEmbeddings = new("max_position_embeddings", "context_length");
    public static readonly LlamaConfigKey RmsNormEps = new("rms_norm_eps", "attention.layer_norm_rms_epsilon");
    public static readonly LlamaConfigKey RopeTheta = new("rope_theta", "rope.freq_base");
    public static readonly LlamaConfigKey HeadDim = new("head_dim", "attention.key_length");
}
