using Alpaca.Inference.Backends;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model.Steps;
using Alpaca.Inference.Threading;
using Alpaca.Llm.Models;

namespace Alpaca.Inference.Model;

/// <summary>
/// The LLaMA forward pass over a batch of tokens from one or more sequences: llama2.c's
/// <c>Transformer</c> and <c>forward</c>, batched. <see cref="ForwardChunk"/> reads step for step like
/// <see cref="ReferenceForward.Run"/>: embedding → per block attention_norm, q/k/v projections, RoPE,
/// KV store, attention, o_proj (+ residual), ffn_norm, gate/up, SiLU·mul, down_proj (+ residual) → final
/// norm → lm_head for the tokens whose logits are wanted. One token is a matrix–vector pass (decode); many
/// tokens make every weight block serve four tokens at a time (prompt processing).
/// <para>The fast path differs from the reference in where work happens, never in what it computes: a
/// branch output joins the residual stream inside the next norm step (one pass over the row instead of
/// two), RoPE, the KV store and attention are one parallel step per (sequence, KV head), and gate/up/SiLU·mul
/// is one fused step. Each parallel step ends in one barrier; per-token steps run inline during decode. All
/// buffers are allocated once (<see cref="RunState"/>): a forward pass allocates nothing. Not thread-safe:
/// one forward at a time.</para>
/// </summary>
public sealed unsafe class Transformer : IEngineBackend
{
    // Per-token steps go parallel only from this many tokens; below, a barrier costs more than the work.
    private const int ParallelTokensFrom = 8;

    private readonly LlamaWeights _weights;
    private readonly LlamaConfig _config;
    private readonly KernelPath _path;
    private readonly WorkerPool _pool;
    private readonly bool _ownsPool;
    private readonly int _maxTokens;
    private readonly int _qDim;
    private readonly int _kvDim;
    private readonly int _ropeHalf;
    private readonly RunState _state;
    private readonly SequenceRuns _runs;
    private readonly BlockPlan[] _blocks;
    private readonly float* _outputNorm;
    private readonly bool _lmHeadReadsHalf;
    private readonly Q8Activations? _lmHeadQ8;

    private readonly MatMulStep _matmul;
    private readonly TokenStep _tokenStep;
    private readonly AttentionStep _attention;

    private float[] _logits = [];
    private int _logitRows;

    public Transformer(LlamaWeights weights, ModelOptions? options = null)
    {
        options ??= new ModelOptions();
        if (!CpuKernels.IsSupported(options.Kernels))
        {
            throw new ArgumentException($"Kernel path {options.Kernels} is not supported by this CPU.");
        }

        if (options.MaxBatchTokens <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxBatchTokens, "MaxBatchTokens must be positive.");
        }

        _weights = weights;
        _config = weights.Config;
        _path = options.Kernels;
        _maxTokens = options.MaxBatchTokens;
        _qDim = _config.NHeads * _config.HeadDim;
        _kvDim = _config.KvDim;
        _ropeHalf = weights.RopeDim / 2;

        var context = options.ContextLength > 0 ? options.ContextLength : _config.ContextLength;
        Cache = KvLayout.Table(options, context);
        KvStorage = new KvCache(_config.NLayers, Cache.Blocks, Cache.BlockTokens, _config.NKvHeads, _config.HeadDim, options.KvCacheType);
        Cache.BlockCopier = KvStorage.CopyBlock;
        _pool = options.Workers ?? new WorkerPool(options.Threads);
        _ownsPool = options.Workers is null;
        _state = new RunState(weights, _path, _maxTokens, context, _pool.ThreadCount);
        _runs = new SequenceRuns(_maxTokens, Cache.Slots);
        _blocks = weights.Layers.Select(layer => new BlockPlan(layer, _state)).ToArray();
        _outputNorm = _state.Pin(weights.OutputNorm);
        _lmHeadReadsHalf = BlockPlan.ReadsHalf(weights.Output);
        _lmHeadQ8 = weights.Output.ReadsQ8 ? _state.NormedQ8 : null;

        _matmul = new MatMulStep(_path, _state.MatMulScratch);
        _tokenStep = new TokenStep(_path);
        _attention = new AttentionStep(KvStorage, Cache, _state, _runs, _config.NHeads, _config.NKvHeads, _config.HeadDim, weights.RopeDim);
    }

    public LlamaConfig Config => _config;

    public LlamaWeights Weights => _weights;

    /// <summary>Slots, block tables and the prefix cache: the bookkeeping of <see cref="KvStorage"/>.</summary>
    public SlotTable Cache { get; }

    /// <summary>The keys and values themselves, in blocks.</summary>
    public KvCache KvStorage { get; }

    IKvSlots IEngineBackend.Cache => Cache;

    public string Backend => "cpu";

    public string Device => "cpu";

    /// <summary>The GGUF weight type of the matrices; for several, the file's mixture (Q4_K_M, Q5_K_M) or "mixed".</summary>
    public string WeightType
    {
        get
        {
            var types = _weights.Matrices.Select(m => m.Type).Distinct().ToList();
            return types.Count == 1 ? types[0].ToString() : _weights.Mixture ?? "mixed";
        }
    }

    /// <summary>Bytes of the matrices and the embedding table as the file holds them.</summary>
    public long WeightBytes => _weights.Matrices.Sum(m => m.RowBytes * m.Rows) + (_weights.TokenEmbedding.RowBytes * _weights.TokenEmbedding.Vocab);

    public KernelPath Kernels => _path;

    public int Threads => _pool.ThreadCount;

    /// <summary>The threads of the forward pass (shareable with a draft model through <see cref="ModelOptions.Workers"/>).</summary>
    public WorkerPool Workers => _pool;

    public int VocabSize => _config.VocabSize;

    /// <summary>
    /// When set, every forward pass adds its time per part to it (<c>alpaca bench --decode-batch</c>);
    /// null (the default) times nothing.
    /// </summary>
    public ForwardProfile? Profile { get; set; }

    /// <summary>Rows of logits the last <see cref="Forward"/> produced, one per token with the logits flag, in batch order.</summary>
    public int LogitRows => _logitRows;

    /// <summary>Logits of the <paramref name="index"/>-th flagged token of the last batch (valid until the next forward).</summary>
    public ReadOnlySpan<float> Logits(int index)
    {
        if ((uint)index >= (uint)_logitRows)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The last batch produced {_logitRows} logit rows.");
        }

        return _logits.AsSpan(index * _config.VocabSize, _config.VocabSize);
    }

    /// <summary>
    /// Runs the batch: writes its keys/values into the KV cache (extending each sequence) and computes
    /// the logits of the flagged tokens (<see cref="Logits"/>). Batches longer than MaxBatchTokens are
    /// processed in chunks. Within one batch a sequence's positions must increase and leave no gap after
    /// its cached length (starting below it restarts the sequence there). Throws before touching the
    /// cache when a token, sequence or position is invalid.
    /// </summary>
    public void Forward(Batch batch)
    {
        BatchValidation.Check(batch, Cache, _config.VocabSize);
        Cache.Prepare(batch);
        _logitRows = batch.LogitCount;
        if (_logits.Length < _logitRows * _config.VocabSize)
        {
            _logits = new float[_logitRows * _config.VocabSize];
        }

        var logitRow = 0;
        for (var start = 0; start < batch.Count; start += _maxTokens)
        {
            var count = Math.Min(_maxTokens, batch.Count - start);
            logitRow = ForwardChunk(batch, start, count, logitRow);
        }

        // Only a completed pass extends the sequences (and offers their full blocks to the prefix cache).
        for (var i = 0; i < batch.Count; i++)
        {
            Cache.Commit(batch.Sequences[i], batch.Positions[i], batch.Tokens[i]);
        }
    }

    // The forward pass of n tokens of the batch from `start`, as ReferenceForward.Run does it for one.
    private int ForwardChunk(Batch batch, int start, int n, int logitRow)
    {
        var profile = Profile;
        var t = Stamp(profile);
        Embed(batch, start, n);
        _runs.Group(_state.Sequences, n);
        t = Mark(profile, ForwardPart.Embed, t);
        for (var l = 0; l < _config.NLayers; l++)
        {
            var block = _blocks[l];

            // Attention: xb = attention_norm(x); q, k, v = xb·W; RoPE; store k, v; attend; o_proj.
            AttentionNorm(block, n, isFirstBlock: l == 0);
            t = Mark(profile, ForwardPart.Norms, t);
            QkvProjections(block, n);
            t = Mark(profile, ForwardPart.Qkv, t);
            RopeKvStoreAttention(l);
            t = Mark(profile, ForwardPart.Attention, t);
            OutputProjection(block, n);
            t = Mark(profile, ForwardPart.OutputProjection, t);

            // FFN: x += o_proj output; xb = ffn_norm(x); h = silu(gate·xb)·(up·xb); down_proj.
            FfnNorm(block, n);
            t = Mark(profile, ForwardPart.Norms, t);
            GateUpSiluMul(block, n);
            t = Mark(profile, ForwardPart.GateUp, t);
            DownProjection(block, n);
            t = Mark(profile, ForwardPart.Down, t);
        }

        // Only the flagged tokens go through the final norm and the LM head (a prompt needs one row).
        var m = GatherLogitTokens(batch, start, n);
        if (profile is not null)
        {
            profile.Passes++;
        }

        if (m == 0)
        {
            return logitRow;
        }

        FinalNorm(m);
        LmHead(m, logitRow);
        Mark(profile, ForwardPart.LmHead, t);
        return logitRow + m;
    }

    private static long Stamp(ForwardProfile? profile) => profile is null ? 0 : profile.Now();

    private static long Mark(ForwardProfile? profile, ForwardPart part, long since)
    {
        if (profile is null)
        {
            return 0;
        }

        var now = profile.Now();
        profile.Add(part, now - since);
        return now;
    }

    // x = token_embedding[token]; each token's RoPE angles for its position.
    private void Embed(Batch batch, int start, int n)
    {
        var dim = _config.Dim;
        for (var i = 0; i < n; i++)
        {
            var pos = batch.Positions[start + i];
            var seq = batch.Sequences[start + i];
            _state.Positions[i] = pos;
            _state.Sequences[i] = seq;
            _weights.TokenEmbedding.Lookup(batch.Tokens[start + i], new Span<float>(_state.Hidden + (long)i * dim, dim));
            ReferenceOps.RopeCosSin(pos, _weights.RopeDim, _config.RopeTheta, new Span<float>(_state.RopeCos + i * _ropeHalf, _ropeHalf), new Span<float>(_state.RopeSin + i * _ropeHalf, _ropeHalf), _weights.RopeFreqFactors);
        }
    }

    // x += the previous block's down_proj output (its FFN residual); xb = RMSNorm(x)·attn_norm.
    private void AttentionNorm(BlockPlan block, int n, bool isFirstBlock) => _tokenStep.Run(_pool, new TokenOp
    {
        Hidden = _state.Hidden,
        Residual = isFirstBlock ? null : _state.BranchOutput,
        NormGain = block.AttentionNorm,
        Output = _state.Normed,
        Width = _config.Dim,
        Tokens = n,
        Eps = _config.RmsNormEps,
        Quantize = _state.NormedQ8,
        RoundToHalf = block.QkvReadsHalf,
    }, ParallelTokensFrom);

    // q = xb·Wq, k = xb·Wk, v = xb·Wv: one parallel step over the three matrices' rows.
    private void QkvProjections(BlockPlan block, int n)
    {
        _matmul.Begin(new MatMulInput(_state.Normed, _config.Dim, n, _state.NormedQ8), _pool.ThreadCount);
        _matmul.Add(block.Weights.AttnQ, _state.Query, _qDim);
        _matmul.Add(block.Weights.AttnK, _state.Key, _kvDim);
        _matmul.Add(block.Weights.AttnV, _state.Value, _kvDim);
        _matmul.Run(_pool);
    }

    // RoPE on q and k, k and v into the KV cache, causal GQA attention → attention output: one parallel
    // step per (sequence, KV head), so the cache rows a chunk writes are hot when it reads them.
    private void RopeKvStoreAttention(int layer) => _attention.Run(_pool, layer);

    // o_proj: branch = attention·Wo (the residual add happens in FfnNorm). F16 and quantized Wo first get
    // the attention output in their activation form.
    private void OutputProjection(BlockPlan block, int n)
    {
        if (block.OutputProjectionQ8 is not null || block.OutputProjectionReadsHalf)
        {
            _tokenStep.Run(_pool, new TokenOp
            {
                Hidden = _state.AttentionOutput,
                Output = _state.AttentionOutput,
                Width = _qDim,
                Tokens = n,
                Eps = _config.RmsNormEps,
                Quantize = block.OutputProjectionQ8,
                RoundToHalf = block.OutputProjectionReadsHalf,
            }, ParallelTokensFrom);
        }

        _matmul.Begin(new MatMulInput(_state.AttentionOutput, _qDim, n, _state.AttentionOutputQ8), _pool.ThreadCount);
        _matmul.Add(block.Weights.AttnOutput, _state.BranchOutput, _config.Dim);
        _matmul.Run(_pool);
    }

    // x += o_proj output (the attention residual); xb = RMSNorm(x)·ffn_norm.
    private void FfnNorm(BlockPlan block, int n) => _tokenStep.Run(_pool, new TokenOp
    {
        Hidden = _state.Hidden,
        Residual = _state.BranchOutput,
        NormGain = block.FfnNorm,
        Output = _state.Normed,
        Width = _config.Dim,
        Tokens = n,
        Eps = _config.RmsNormEps,
        Quantize = _state.NormedQ8,
        RoundToHalf = block.GateUpReadsHalf,
    }, ParallelTokensFrom);

    // h = silu(xb·Wgate) · (xb·Wup), fused per row chunk, left in down_proj's activation form.
    private void GateUpSiluMul(BlockPlan block, int n)
    {
        _matmul.Begin(new MatMulInput(_state.Normed, _config.Dim, n, _state.NormedQ8), _pool.ThreadCount);
        _matmul.AddSwiGlu(block.Weights.FfnGate, block.Weights.FfnUp, new SwiGluOutput
        {
            Hidden = _state.FfnHidden,
            Up = _state.FfnUp,
            Width = _config.FfnDim,
            HiddenQ8 = block.DownQ8,
            RoundToHalf = block.DownReadsHalf,
        });
        _matmul.Run(_pool);
    }

    // down_proj: branch = h·Wdown (the residual add happens in the next AttentionNorm, or FinalNorm).
    private void DownProjection(BlockPlan block, int n)
    {
        _matmul.Begin(new MatMulInput(_state.FfnHidden, _config.FfnDim, n, _state.FfnHiddenQ8), _pool.ThreadCount);
        _matmul.Add(block.Weights.FfnDown, _state.BranchOutput, _config.Dim);
        _matmul.Run(_pool);
    }

    // The chunk indices of the tokens whose logits are wanted; returns how many.
    private int GatherLogitTokens(Batch batch, int start, int n)
    {
        var m = 0;
        for (var i = 0; i < n; i++)
        {
            if (batch.WantsLogits[start + i])
            {
                _state.LogitTokens[m++] = i;
            }
        }

        return m;
    }

    // final = x + the last block's down_proj output, for the m logit tokens; xb = RMSNorm(final)·output_norm.
    private void FinalNorm(int m)
    {
        var dim = _config.Dim;
        for (var j = 0; j < m; j++)
        {
            var i = _state.LogitTokens[j];
            var final = _state.FinalHidden + (long)j * dim;
            Buffer.MemoryCopy(_state.Hidden + (long)i * dim, final, dim * sizeof(float), dim * sizeof(float));
            VectorOps.Add(final, _state.BranchOutput + (long)i * dim, dim);
        }

        _tokenStep.Run(_pool, new TokenOp
        {
            Hidden = _state.FinalHidden,
            NormGain = _outputNorm,
            Output = _state.Normed,
            Width = dim,
            Tokens = m,
            Eps = _config.RmsNormEps,
            Quantize = _lmHeadQ8,
            RoundToHalf = _lmHeadReadsHalf,
        }, ParallelTokensFrom);
    }

    // logits = xb·Wout (lm_head) for the m logit tokens, into rows logitRow.. of the logits.
    private void LmHead(int m, int logitRow)
    {
        fixed (float* logits = &_logits[logitRow * _config.VocabSize])
        {
            _matmul.Begin(new MatMulInput(_state.Normed, _config.Dim, m, _lmHeadQ8), _pool.ThreadCount);
            _matmul.Add(_weights.Output, logits, _config.VocabSize);
            _matmul.Run(_pool);
        }
    }

    public void Dispose()
    {
        _state.Dispose();
        if (_ownsPool)
        {
            _pool.Dispose();
        }

        KvStorage.Dispose();
    }
}
