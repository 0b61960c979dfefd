using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model.Steps;
using Alpaca.Inference.Threading;
using Alpaca.Llm.Models;

namespace Alpaca.Inference.Model;

/// <summary>
/// The LLaMA forward pass over a batch of tokens from one or more sequences (llama2.c's
/// <c>forward</c>, batched): embedding → for each block: RMSNorm, Q/K/V, RoPE, causal grouped-query
/// attention over the KV cache, output projection + residual, RMSNorm, SwiGLU FFN + residual → final
/// RMSNorm → LM head for the tokens whose logits are wanted. One token is a matrix–vector pass (decode);
/// many tokens make every weight block serve four tokens at a time (prompt processing).
/// <para>Per block there are four parallel steps (Q/K/V, attention, output projection, SwiGLU+down is two),
/// each ending in one barrier; the cheap per-token glue runs inline during decode. All buffers are
/// allocated here, once: a forward pass allocates nothing. Not thread-safe: one forward at a time.</para>
/// </summary>
public sealed unsafe class LlamaModel : IDisposable
{
    // Per-token glue steps go parallel only from this many tokens; below, a barrier costs more than the work.
    private const int ParallelTokensFrom = 8;

    private readonly LlamaWeights _w;
    private readonly LlamaConfig _c;
    private readonly KernelPath _path;
    private readonly WorkerPool _pool;
    private readonly int _maxTokens;
    private readonly int _qDim;
    private readonly int _kvDim;
    private readonly int _ropeHalf;
    private readonly List<IDisposable> _owned = [];

    private readonly float* _x;
    private readonly float* _xb;
    private readonly float* _q;
    private readonly float* _k;
    private readonly float* _v;
    private readonly float* _att;
    private readonly float* _tmp;
    private readonly float* _final;
    private readonly float* _h;
    private readonly float* _u;
    private readonly float* _cos;
    private readonly float* _sin;
    private readonly Q8Activations? _xq;
    private readonly Q8Activations? _attq;
    private readonly Q8Activations? _hq;
    private readonly int[] _positions;
    private readonly int[] _sequences;
    private readonly int[] _selected;
    private readonly int[] _runStarts;
    private readonly int[] _runTokens;
    private readonly int[] _runOfSequence;

    private readonly MatMulStep _matmul;
    private readonly TokenStep _tokenStep;
    private readonly AttentionStep _attention;

    private float[] _logits = [];
    private int _logitRows;

    public LlamaModel(LlamaWeights weights, ModelOptions? options = null)
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

        _w = weights;
        _c = weights.Config;
        _path = options.Kernels;
        _maxTokens = options.MaxBatchTokens;
        _qDim = _c.NHeads * _c.HeadDim;
        _kvDim = _c.KvDim;
        _ropeHalf = weights.RopeDim / 2;

        var context = options.ContextLength > 0 ? options.ContextLength : _c.ContextLength;
        Cache = Own(new KvCache(_c.NLayers, Math.Max(1, options.MaxSequences), context, _c.NKvHeads, _c.HeadDim));
        _pool = Own(new WorkerPool(options.Threads));

        var n = _maxTokens;
        _x = Floats(n * _c.Dim);
        _xb = Floats(n * Math.Max(_c.Dim, _qDim));
        _q = Floats(n * _qDim);
        _k = Floats(n * _kvDim);
        _v = Floats(n * _kvDim);
        _att = Floats(n * _qDim);
        _tmp = Floats(n * _c.Dim);
        _final = Floats(n * _c.Dim);
        _h = Floats(n * _c.FfnDim);
        _u = Floats(n * _c.FfnDim);
        _cos = Floats(n * Math.Max(1, _ropeHalf));
        _sin = Floats(n * Math.Max(1, _ropeHalf));
        _positions = new int[n];
        _sequences = new int[n];
        _selected = new int[n];
        _runStarts = new int[n + 1];
        _runTokens = new int[n];
        _runOfSequence = new int[Cache.Slots];

        var layer0 = weights.Layers[0];
        var quantized = _path != KernelPath.Reference;
        if (quantized && (layer0.AttnQ.IsQuantized || layer0.AttnK.IsQuantized || layer0.AttnV.IsQuantized
            || layer0.FfnGate.IsQuantized || layer0.FfnUp.IsQuantized || weights.Output.IsQuantized || AnyLayerQuantized(weights)))
        {
            _xq = Own(new Q8Activations(n, _c.Dim));
        }

        if (quantized && weights.Layers.Any(l => l.AttnOutput.IsQuantized))
        {
            _attq = Own(new Q8Activations(n, _qDim));
        }

        if (quantized && weights.Layers.Any(l => l.FfnDown.IsQuantized))
        {
            _hq = Own(new Q8Activations(n, _c.FfnDim));
        }

        var threads = _pool.ThreadCount;
        var scratch = new float*[threads];
        var scores = new float*[threads];
        var scratchFloats = MatMul.ScratchFloats(Math.Max(Math.Max(_c.Dim, _qDim), _c.FfnDim));
        for (var t = 0; t < threads; t++)
        {
            scratch[t] = Floats(scratchFloats);
            scores[t] = Floats(AttentionStep.ScratchFloats(Cache));
        }

        _matmul = new MatMulStep(_path, scratch);
        _tokenStep = new TokenStep(_path);
        _attention = new AttentionStep(Cache, scores, _c.NHeads, _c.NKvHeads, _c.HeadDim, weights.RopeDim);
    }

    public LlamaConfig Config => _c;

    public LlamaWeights Weights => _w;

    public KvCache Cache { get; }

    public KernelPath Kernels => _path;

    public int Threads => _pool.ThreadCount;

    public int VocabSize => _c.VocabSize;

    /// <summary>Rows of logits the last <see cref="Forward"/> produced, one per token with the logits flag, in batch order.</summary>
    public int LogitRows => _logitRows;

    /// <summary>Logits of the <paramref name="index"/>-th flagged token of the last batch (valid until the next forward).</summary>
    public ReadOnlySpan<float> Logits(int index)
    {
        if ((uint)index >= (uint)_logitRows)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The last batch produced {_logitRows} logit rows.");
        }

        return _logits.AsSpan(index * _c.VocabSize, _c.VocabSize);
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
        Validate(batch);
        _logitRows = batch.LogitCount;
        if (_logits.Length < _logitRows * _c.VocabSize)
        {
            _logits = new float[_logitRows * _c.VocabSize];
        }

        var logitRow = 0;
        for (var start = 0; start < batch.Count; start += _maxTokens)
        {
            var count = Math.Min(_maxTokens, batch.Count - start);
            logitRow = ForwardChunk(batch, start, count, logitRow);
        }
    }

    private void Validate(Batch batch)
    {
        if (batch.Count == 0)
        {
            throw new ArgumentException("The batch is empty.", nameof(batch));
        }

        Span<int> lengths = stackalloc int[Cache.Slots];
        Span<int> last = stackalloc int[Cache.Slots];
        for (var s = 0; s < Cache.Slots; s++)
        {
            lengths[s] = Cache.IsAllocated(s) ? Cache.Length(s) : -1;
            last[s] = -1;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            var token = batch.Tokens[i];
            var seq = batch.Sequences[i];
            var pos = batch.Positions[i];
            if ((uint)token >= (uint)_c.VocabSize)
            {
                throw new ArgumentException($"Batch entry {i}: token id {token} is outside the vocabulary (0..{_c.VocabSize - 1}).", nameof(batch));
            }

            if ((uint)seq >= (uint)Cache.Slots || lengths[seq] < 0)
            {
                throw new ArgumentException($"Batch entry {i}: sequence {seq} has no allocated KV cache slot.", nameof(batch));
            }

            if (pos < 0 || pos > lengths[seq])
            {
                throw new ArgumentException($"Batch entry {i}: position {pos} of sequence {seq} would leave a gap (the sequence has {lengths[seq]} positions).", nameof(batch));
            }

            if (pos >= Cache.ContextLength)
            {
                throw new ArgumentException($"Batch entry {i}: position {pos} is past the context length {Cache.ContextLength}.", nameof(batch));
            }

            // All keys and values of a batch are stored before attention runs, so one batch must not
            // write a sequence's position twice (a restart belongs in the next batch).
            if (pos <= last[seq])
            {
                throw new ArgumentException($"Batch entry {i}: position {pos} of sequence {seq} is not after its previous position {last[seq]} in this batch.", nameof(batch));
            }

            last[seq] = pos;
            lengths[seq] = pos + 1;
        }
    }

    private int ForwardChunk(Batch batch, int start, int n, int logitRow)
    {
        var dim = _c.Dim;
        var eps = _c.RmsNormEps;
        for (var i = 0; i < n; i++)
        {
            var pos = batch.Positions[start + i];
            var seq = batch.Sequences[start + i];
            _positions[i] = pos;
            _sequences[i] = seq;
            _w.TokenEmbedding.Lookup(batch.Tokens[start + i], new Span<float>(_x + (long)i * dim, dim));
            ReferenceOps.RopeCosSin(pos, _w.RopeDim, _c.RopeTheta, new Span<float>(_cos + i * _ropeHalf, _ropeHalf), new Span<float>(_sin + i * _ropeHalf, _ropeHalf));

            // Sequence order is validated: this token extends (or restarts) its sequence here.
            Cache.SetLength(seq, pos + 1);
        }

        // One run per sequence: its tokens (consecutive positions, in batch order). Attention handles a
        // run × KV head as a unit.
        var runs = GroupBySequence(n);

        for (var l = 0; l < _c.NLayers; l++)
        {
            var layer = _w.Layers[l];

            // Attention block. The previous block's FFN output (in _tmp) is added to the residual here.
            _tokenStep.Set(_x, l == 0 ? null : _tmp, Pin(layer.AttnNorm), eps, _xb, dim, dim, n, _xq, AllHalf(layer.AttnQ, layer.AttnK, layer.AttnV));
            _tokenStep.Run(_pool, ParallelTokensFrom);

            _matmul.Begin(new MatMulInput(_xb, dim, n, _xq), _pool.ThreadCount);
            _matmul.Add(layer.AttnQ, _q, _qDim);
            _matmul.Add(layer.AttnK, _k, _kvDim);
            _matmul.Add(layer.AttnV, _v, _kvDim);
            _matmul.Run(_pool);

            _attention.Set(l, _runTokens, _runStarts, runs, _positions, _sequences, _q, _k, _v, _cos, _sin, _att);
            _attention.Run(_pool);

            if ((_attq is not null && layer.AttnOutput.IsQuantized) || AllHalf(layer.AttnOutput))
            {
                _tokenStep.Set(_att, null, null, eps, _att, _qDim, _qDim, n, layer.AttnOutput.IsQuantized ? _attq : null, AllHalf(layer.AttnOutput));
                _tokenStep.Run(_pool, ParallelTokensFrom);
            }

            _matmul.Begin(new MatMulInput(_att, _qDim, n, _attq), _pool.ThreadCount);
            _matmul.Add(layer.AttnOutput, _tmp, dim);
            _matmul.Run(_pool);

            // FFN block: x += attention output; h = silu(gate·norm(x))·(up·norm(x)); tmp = down·h.
            _tokenStep.Set(_x, _tmp, Pin(layer.FfnNorm), eps, _xb, dim, dim, n, _xq, AllHalf(layer.FfnGate, layer.FfnUp));
            _tokenStep.Run(_pool, ParallelTokensFrom);

            _matmul.Begin(new MatMulInput(_xb, dim, n, _xq), _pool.ThreadCount);
            _matmul.AddSwiGlu(layer.FfnGate, layer.FfnUp, _h, _u, _c.FfnDim, layer.FfnDown.IsQuantized ? _hq : null, AllHalf(layer.FfnDown));
            _matmul.Run(_pool);

            _matmul.Begin(new MatMulInput(_h, _c.FfnDim, n, _hq), _pool.ThreadCount);
            _matmul.Add(layer.FfnDown, _tmp, dim);
            _matmul.Run(_pool);
        }

        // Only the flagged tokens go through the final norm and the LM head (a prompt needs one row).
        var m = 0;
        for (var i = 0; i < n; i++)
        {
            if (batch.WantsLogits[start + i])
            {
                _selected[m++] = i;
            }
        }

        if (m == 0)
        {
            return logitRow;
        }

        for (var j = 0; j < m; j++)
        {
            var i = _selected[j];
            var src = _x + (long)i * dim;
            var dst = _final + (long)j * dim;
            Buffer.MemoryCopy(src, dst, dim * sizeof(float), dim * sizeof(float));
            VectorOps.Add(dst, _tmp + (long)i * dim, dim);
        }

        _tokenStep.Set(_final, null, Pin(_w.OutputNorm), eps, _xb, dim, dim, m, _w.Output.IsQuantized ? _xq : null, AllHalf(_w.Output));
        _tokenStep.Run(_pool, ParallelTokensFrom);
        fixed (float* logits = &_logits[logitRow * _c.VocabSize])
        {
            _matmul.Begin(new MatMulInput(_xb, dim, m, _w.Output.IsQuantized ? _xq : null), _pool.ThreadCount);
            _matmul.Add(_w.Output, logits, _c.VocabSize);
            _matmul.Run(_pool);
        }

        return logitRow + m;
    }

    private int GroupBySequence(int n)
    {
        Array.Fill(_runOfSequence, -1);
        var runs = 0;
        Span<int> counts = stackalloc int[n];
        for (var i = 0; i < n; i++)
        {
            ref var r = ref _runOfSequence[_sequences[i]];
            if (r < 0)
            {
                r = runs++;
                counts[r] = 0;
            }

            counts[r]++;
        }

        _runStarts[0] = 0;
        for (var r = 0; r < runs; r++)
        {
            _runStarts[r + 1] = _runStarts[r] + counts[r];
            counts[r] = _runStarts[r];
        }

        for (var i = 0; i < n; i++)
        {
            _runTokens[counts[_runOfSequence[_sequences[i]]]++] = i;
        }

        return runs;
    }

    // ggml multiplies F16 weights by fp16-rounded activations (their "vec_dot type"); so do we, when
    // every consumer of the activation is F16 (a mixed F16/F32 set keeps float activations).
    private static bool AllHalf(params WeightMatrix[] consumers) => consumers.All(m => m.Type == Alpaca.Llm.Tensors.GgmlType.F16);

    private static bool AnyLayerQuantized(LlamaWeights w) =>
        w.Layers.Any(l => l.AttnQ.IsQuantized || l.AttnK.IsQuantized || l.AttnV.IsQuantized || l.FfnGate.IsQuantized || l.FfnUp.IsQuantized);

    private readonly Dictionary<float[], nint> _pinned = new(ReferenceEqualityComparer.Instance);

    // Norm gains are small managed arrays; copy them once to native memory so steps can take pointers.
    private float* Pin(float[] values)
    {
        if (!_pinned.TryGetValue(values, out var p))
        {
            var buffer = Own(new NativeBuffer((long)values.Length * sizeof(float)));
            values.AsSpan().CopyTo(new Span<float>(buffer.Pointer, values.Length));
            p = (nint)buffer.Pointer;
            _pinned[values] = p;
        }

        return (float*)p;
    }

    private float* Floats(long count) => Own(new NativeBuffer(Math.Max(1, count) * sizeof(float))).As<float>();

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _owned.Clear();
    }
}
