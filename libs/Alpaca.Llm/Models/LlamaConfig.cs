namespace Alpaca.Llm.Models;

/// <summary>
/// The hyper-parameters of a LLaMA model: the one reader and the one validation of Hugging Face
/// <c>config.json</c> (<see cref="FromHfConfigJson"/>) and GGUF metadata (<see cref="FromGguf"/>), used by
/// training, conversion and serving alike. Names follow llama2.c; <see cref="LlamaConfigKeys"/> has the
/// HF/GGUF key of each.
/// </summary>
public sealed partial record LlamaConfig
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

    /// <summary>
    /// rms_norm_eps / llama.attention.layer_norm_rms_epsilon. Float because GGUF stores it so; the trainer's
    /// fp32 RMSNorm rounds the scalar to float anyway, so training sees the same epsilon.
    /// </summary>
    public float RmsNormEps { get; init; } = 1e-5f;

    /// <summary>rope_theta / llama.rope.freq_base.</summary>
    public float RopeTheta { get; init; } = 10000f;

    /// <summary>rope_scaling of type llama3 (Llama 3.1+) / the <c>rope_freqs.weight</c> tensor; null is plain RoPE.</summary>
    public Llama3RopeScaling? RopeScaling { get; init; }

    /// <summary>
    /// Linear rope scaling ("position interpolation"): config.json <c>"rope_scaling": {"type": "linear", "factor": f}</c>
    /// / GGUF <c>llama.rope.scaling.type = linear</c> + <c>llama.rope.scaling.factor</c>. Every position is divided by
    /// f, i.e. every inverse frequency (transformers' <c>_compute_linear_scaling_rope_parameters</c>: inv_freq /= factor;
    /// llama.cpp: freq_scale = 1/f). Null is none; exclusive with <see cref="RopeScaling"/>.
    /// </summary>
    public double? RopeLinearFactor { get; init; }

    /// <summary>The divisor of each rotary inverse frequency (ropeDim / 2 of them), or null for plain RoPE.</summary>
    public float[]? RopeFrequencyDivisors(int ropeDim) =>
        RopeScaling?.FrequencyFactors(ropeDim, RopeTheta)
        ?? (RopeLinearFactor is { } f ? Enumerable.Repeat((float)f, ropeDim / 2).ToArray() : null);

    /// <summary>tie_word_embeddings: the LM head reuses token_embd (no output.weight / lm_head.weight tensor).</summary>
    public bool TiedEmbeddings { get; init; }

    public int BosTokenId { get; init; } = 1;

    public int EosTokenId { get; init; } = 2;

    /// <summary>pad_token_id of config.json (null when the tokenizer has none; train.py then adds [PAD]).</summary>
    public int? PadTokenId { get; init; }

    /// <summary>initializer_range: the standard deviation of HF's <c>_init_weights</c>; only a model trained from scratch uses it.</summary>
    public double InitializerRange { get; init; } = 0.02;

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

    /// <summary>Throws <see cref="ArgumentException"/> naming the config.json key when the shape is not a valid LLaMA.</summary>
    public LlamaConfig Validate() => Validate(k => k.Hf);

    /// <summary>The one shape check, with the keys named as the source (config.json or GGUF) names them.</summary>
    private LlamaConfig Validate(Func<LlamaConfigKey, string> name)
    {
        Positive(VocabSize, LlamaConfigKeys.VocabSize);
        Positive(Dim, LlamaConfigKeys.HiddenSize);
        Positive(NLayers, LlamaConfigKeys.NumHiddenLayers);
        Positive(NHeads, LlamaConfigKeys.NumAttentionHeads);
        Positive(NKvHeads, LlamaConfigKeys.NumKeyValueHeads);
        Positive(FfnDim, LlamaConfigKeys.IntermediateSize);
        Positive(ContextLength, LlamaConfigKeys.MaxPositionEmbeddings);
        if (_headDim < 0)
        {
            throw new ArgumentException($"'{name(LlamaConfigKeys.HeadDim)}' must be positive, got {_headDim}.");
        }

        if (_headDim == 0 && Dim % NHeads != 0)
        {
            throw new ArgumentException($"'{name(LlamaConfigKeys.HiddenSize)}' ({Dim}) must be a multiple of '{name(LlamaConfigKeys.NumAttentionHeads)}' ({NHeads}).");
        }

        if (NHeads % NKvHeads != 0)
        {
            throw new ArgumentException($"'{name(LlamaConfigKeys.NumAttentionHeads)}' ({NHeads}) must be a multiple of '{name(LlamaConfigKeys.NumKeyValueHeads)}' ({NKvHeads}).");
        }

        if (HeadDim % 2 != 0)
        {
            throw new ArgumentException($"The head dimension ({HeadDim}) must be even for rotary embeddings.");
        }

        if (RopeLinearFactor is { } linear && (!(linear > 0) || double.IsInfinity(linear) || RopeScaling is not null))
        {
            throw new ArgumentException($"Linear rope scaling needs a positive finite factor and no llama3 scaling beside it (factor {linear}).");
        }

        if (!(RmsNormEps > 0))
        {
            throw new ArgumentException($"'{name(LlamaConfigKeys.RmsNormEps)}' must be positive, got {RmsNormEps}.");
        }

        if (!(RopeTheta > 0))
        {
            throw new ArgumentException($"'{name(LlamaConfigKeys.RopeTheta)}' must be positive, got {RopeTheta}.");
        }

        return this;

        void Positive(int v, LlamaConfigKey key)
        {
            if (v <= 0)
            {
                throw new ArgumentException($"'{name(key)}' must be positive, got {v}.");
            }
        }
    }

    // A head_dim equal to the default is not stored, so configs read from different sources compare equal.
    private static int ExplicitHeadDim(int? headDim, LlamaConfig c) =>
        headDim is { } h && (c.NHeads == 0 || h != c.Dim / c.NHeads) ? h : 0;
}
