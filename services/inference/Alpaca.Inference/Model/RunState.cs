using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model.Steps;

namespace Alpaca.Inference.Model;

/// <summary>
/// The activation buffers of the forward pass, llama2.c's <c>RunState</c> batched over up to
/// <see cref="MaxTokens"/> tokens (row t of each buffer belongs to the chunk's token t). Allocated once in
/// native memory, so a forward pass allocates nothing and the GC never scans or moves them. The llama2.c
/// name of each buffer is given beside it.
/// </summary>
internal sealed unsafe class RunState : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public RunState(LlamaWeights weights, KernelPath path, int maxTokens, int contextLength, int threads)
    {
        var c = weights.Config;
        var n = maxTokens;
        var qDim = c.NHeads * c.HeadDim;
        var ropeHalf = weights.RopeDim / 2;
        MaxTokens = n;
        Hidden = Floats(n * c.Dim);
        Normed = Floats(n * Math.Max(c.Dim, qDim));
        Query = Floats(n * qDim);
        Key = Floats(n * c.KvDim);
        Value = Floats(n * c.KvDim);
        AttentionOutput = Floats(n * qDim);
        BranchOutput = Floats(n * c.Dim);
        FinalHidden = Floats(n * c.Dim);
        FfnHidden = Floats(n * c.FfnDim);
        FfnUp = Floats(n * c.FfnDim);
        RopeCos = Floats(n * Math.Max(1, ropeHalf));
        RopeSin = Floats(n * Math.Max(1, ropeHalf));
        Positions = new int[n];
        Sequences = new int[n];
        LogitTokens = new int[n];

        // Q8 copies only where an integer matmul reads them (the reference path multiplies floats).
        var integer = path != KernelPath.Reference;
        // K-quant consumers need the Q8_K form as well.
        var normedReaders = weights.Layers.SelectMany(l => new[] { l.AttnQ, l.AttnK, l.AttnV, l.FfnGate, l.FfnUp }).Append(weights.Output).ToArray();
        if (integer && normedReaders.Any(m => m.ReadsQ8))
        {
            NormedQ8 = Own(new Q8Activations(n, c.Dim, normedReaders.Any(m => m.HasKQuantKernel)));
        }

        if (integer && weights.Layers.Any(l => l.AttnOutput.ReadsQ8))
        {
            AttentionOutputQ8 = Own(new Q8Activations(n, qDim, weights.Layers.Any(l => l.AttnOutput.HasKQuantKernel)));
        }

        if (integer && weights.Layers.Any(l => l.FfnDown.ReadsQ8))
        {
            FfnHiddenQ8 = Own(new Q8Activations(n, c.FfnDim, weights.Layers.Any(l => l.FfnDown.HasKQuantKernel)));
        }

        MatMulScratch = new float*[threads];
        AttentionScratch = new float*[threads];
        var matMulFloats = MatMul.ScratchFloats(Math.Max(Math.Max(c.Dim, qDim), c.FfnDim));
        for (var t = 0; t < threads; t++)
        {
            MatMulScratch[t] = Floats(matMulFloats);
            AttentionScratch[t] = Floats(AttentionStep.ScratchFloats(contextLength, c.HeadDim));
        }
    }

    public int MaxTokens { get; }

    /// <summary><c>x</c>: the residual stream, [tokens][dim].</summary>
    public float* Hidden { get; }

    /// <summary><c>xb</c>: RMSNorm(x)·gain, the input of Q/K/V, gate/up and the LM head, [tokens][dim].</summary>
    public float* Normed { get; }

    /// <summary><c>q</c>, [tokens][n_heads·head_dim].</summary>
    public float* Query { get; }

    /// <summary><c>k</c> before it is rotated and stored in the KV cache, [tokens][n_kv_heads·head_dim].</summary>
    public float* Key { get; }

    /// <summary><c>v</c> before it is stored in the KV cache, [tokens][n_kv_heads·head_dim].</summary>
    public float* Value { get; }

    /// <summary><c>xb</c> after attention: the heads' weighted values, the input of o_proj, [tokens][n_heads·head_dim].</summary>
    public float* AttentionOutput { get; }

    /// <summary><c>xb2</c>: o_proj's or down_proj's output, added into <see cref="Hidden"/> by the next step, [tokens][dim].</summary>
    public float* BranchOutput { get; }

    /// <summary>The last hidden state of each token whose logits are wanted, gathered, [logit tokens][dim].</summary>
    public float* FinalHidden { get; }

    /// <summary><c>hb</c>: gate·xb, then silu(gate·xb)·(up·xb), the input of down_proj, [tokens][ffn_dim].</summary>
    public float* FfnHidden { get; }

    /// <summary><c>hb2</c>: up·xb, [tokens][ffn_dim].</summary>
    public float* FfnUp { get; }

    /// <summary>cos(pos·θ_i) and sin(pos·θ_i) for each token's position, [tokens][rope_dim/2].</summary>
    public float* RopeCos { get; }

    public float* RopeSin { get; }

    /// <summary><see cref="Normed"/> quantized to Q8 for Q4_0/Q8_0 weights (null when no matmul needs it).</summary>
    public Q8Activations? NormedQ8 { get; }

    /// <summary><see cref="AttentionOutput"/> quantized to Q8 for a quantized o_proj.</summary>
    public Q8Activations? AttentionOutputQ8 { get; }

    /// <summary><see cref="FfnHidden"/> quantized to Q8 for a quantized down_proj.</summary>
    public Q8Activations? FfnHiddenQ8 { get; }

    /// <summary>Position and sequence (KV slot) of each token of the chunk.</summary>
    public int[] Positions { get; }

    public int[] Sequences { get; }

    /// <summary>Chunk indices of the tokens whose logits are wanted, in batch order.</summary>
    public int[] LogitTokens { get; }

    /// <summary>Per thread: scratch for float matmul panels.</summary>
    public float*[] MatMulScratch { get; }

    /// <summary>Per thread: a query copy and one head's attention scores.</summary>
    public float*[] AttentionScratch { get; }

    /// <summary>A norm gain (a small managed array) copied to native memory, so steps take a pointer.</summary>
    public float* Pin(float[] values)
    {
        var p = Floats(values.Length);
        values.AsSpan().CopyTo(new Span<float>(p, values.Length));
        return p;
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
