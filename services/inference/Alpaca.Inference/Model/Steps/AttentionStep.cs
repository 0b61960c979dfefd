using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// RoPE, KV cache write and causal grouped-query attention in one parallel step. A chunk is one
/// sequence's tokens in this batch (a whole prompt, or one decode token) × one KV head: it rotates
/// and stores that head's keys and values for those tokens, then, for every query head sharing the
/// KV head, rotates the queries and attends — token at position p to positions 0..p of its sequence.
/// Chunks touch disjoint cache rows and disjoint query slices, so they need no ordering among
/// themselves, and the cache rows a chunk writes are hot when it reads them.
/// <para>Numerics follow llama.cpp's default (non-flash) attention: keys and values are stored as fp16
/// values, the query is rounded to fp16 for its product with the keys, scores are scaled by
/// 1/√head_dim and soft-maxed, and the probabilities are rounded to fp16 for the product with values.</para>
/// </summary>
internal sealed unsafe class AttentionStep : IParallelWork
{
    private readonly KvCache _cache;
    private readonly float*[] _scratch;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _ropeDim;
    private readonly int _group;
    private readonly int _qDim;
    private readonly int _kvDim;
    private readonly float _scale;
    private int _layer;
    private int[] _positions = [];
    private int[] _sequences = [];
    private int[] _runTokens = [];
    private int[] _runStarts = [];
    private int _runs;
    private float* _q;
    private float* _k;
    private float* _v;
    private float* _cos;
    private float* _sin;
    private float* _output;

    /// <param name="scratch">Per thread: <see cref="ScratchFloats"/> floats.</param>
    public AttentionStep(KvCache cache, float*[] scratch, int heads, int kvHeads, int headDim, int ropeDim)
    {
        _cache = cache;
        _scratch = scratch;
        _kvHeads = kvHeads;
        _headDim = headDim;
        _ropeDim = ropeDim;
        _group = heads / kvHeads;
        _qDim = heads * headDim;
        _kvDim = kvHeads * headDim;
        _scale = 1f / MathF.Sqrt(headDim);
    }

    public static int ScratchFloats(KvCache cache) => cache.PositionStride + cache.HeadDim;

    /// <summary>
    /// Tokens of run r are runTokens[runStarts[r]..runStarts[r+1]) (batch indices, in position order);
    /// cos/sin hold ropeDim/2 values per token.
    /// </summary>
    public void Set(int layer, int[] runTokens, int[] runStarts, int runs, int[] positions, int[] sequences,
        float* q, float* k, float* v, float* cos, float* sin, float* output)
    {
        _layer = layer;
        _runTokens = runTokens;
        _runStarts = runStarts;
        _runs = runs;
        _positions = positions;
        _sequences = sequences;
        _q = q;
        _k = k;
        _v = v;
        _cos = cos;
        _sin = sin;
        _output = output;
    }

    public int Chunks => _runs * _kvHeads;

    public void Run(WorkerPool pool) => pool.Run(this);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int thread)
    {
        var run = chunk / _kvHeads;
        var kvHead = chunk % _kvHeads;
        int first = _runStarts[run], end = _runStarts[run + 1];
        var seq = _sequences[_runTokens[first]];
        var keys = _cache.Keys(_layer, seq, kvHead);
        var values = _cache.Values(_layer, seq, kvHead);
        var stride = _cache.PositionStride;
        var half = _ropeDim / 2;
        var hd = _headDim;

        // Rotate and store this head's keys (transposed) and values, rounded as an fp16 cache holds them.
        for (var i = first; i < end; i++)
        {
            var t = _runTokens[i];
            var pos = _positions[t];
            var k = _k + (long)t * _kvDim + kvHead * hd;
            var v = _v + (long)t * _kvDim + kvHead * hd;
            VectorOps.Rope(k, 1, hd, _ropeDim, _cos + (long)t * half, _sin + (long)t * half);
            Fp16.RoundInPlace(k, hd);
            Fp16.RoundInPlace(v, hd);
            Buffer.MemoryCopy(v, values + (long)pos * hd, hd * sizeof(float), hd * sizeof(float));
        }

        for (var d = 0; d < hd; d++)
        {
            var row = keys + (long)d * stride;
            for (var i = first; i < end; i++)
            {
                var t = _runTokens[i];
                row[_positions[t]] = _k[(long)t * _kvDim + kvHead * hd + d];
            }
        }

        var q = _scratch[thread];
        var scores = q + hd;
        for (var h = kvHead * _group; h < (kvHead + 1) * _group; h++)
        {
            for (var i = first; i < end; i++)
            {
                var t = _runTokens[i];
                var qh = _q + (long)t * _qDim + h * hd;
                VectorOps.Rope(qh, 1, hd, _ropeDim, _cos + (long)t * half, _sin + (long)t * half);
                Buffer.MemoryCopy(qh, q, hd * sizeof(float), hd * sizeof(float));
                Fp16.RoundInPlace(q, hd);
                Attend(q, keys, values, _positions[t] + 1, scores, _output + (long)t * _qDim + h * hd);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Attend(float* q, float* keys, float* values, int n, float* scores, float* output)
    {
        var stride = _cache.PositionStride;
        var hd = _headDim;

        // Scores of 16 positions at a time: Σ_d q[d]·K[d][j..j+16], four dimensions per step in four
        // independent accumulators. Lanes past n read unwritten cache (rows are padded to 16) and are
        // never used.
        var scale = Vector512.Create(_scale);
        for (var j = 0; j < n; j += 16)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            var k = keys + j;
            var d = 0;
            for (; d + 4 <= hd; d += 4)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q[d]), Vector512.Load(k + (long)d * stride), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q[d + 1]), Vector512.Load(k + (long)(d + 1) * stride), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q[d + 2]), Vector512.Load(k + (long)(d + 2) * stride), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q[d + 3]), Vector512.Load(k + (long)(d + 3) * stride), a3);
            }

            for (; d < hd; d++)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q[d]), Vector512.Load(k + (long)d * stride), a0);
            }

            (((a0 + a1) + (a2 + a3)) * scale).Store(scores + j);
        }

        VectorOps.Softmax(scores, n);
        Fp16.RoundInPlace(scores, n);

        new Span<float>(output, hd).Clear();
        for (var j = 0; j < n; j++)
        {
            VectorOps.Axpy(scores[j], values + (long)j * hd, output, hd);
        }
    }
}
