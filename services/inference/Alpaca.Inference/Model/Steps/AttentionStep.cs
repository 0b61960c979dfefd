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
    private readonly int[] _positions;
    private readonly int[] _sequences;
    private readonly int[] _runTokens;
    private readonly int[] _runStarts;
    private readonly SequenceRuns _runs;
    private readonly float* _q;
    private readonly float* _k;
    private readonly float* _v;
    private readonly float* _cos;
    private readonly float* _sin;
    private readonly float* _output;
    private int _layer;
    private int _runCount;

    /// <summary>
    /// Reads the chunk's queries, keys and values (<see cref="RunState.Query"/>, <see cref="RunState.Key"/>,
    /// <see cref="RunState.Value"/>), each token's RoPE cos/sin, position and sequence, and the grouping in
    /// <paramref name="runs"/>; writes <see cref="RunState.AttentionOutput"/>. The scratch is
    /// <see cref="RunState.AttentionScratch"/> (<see cref="ScratchFloats"/> floats per thread).
    /// </summary>
    public AttentionStep(KvCache cache, RunState state, SequenceRuns runs, int heads, int kvHeads, int headDim, int ropeDim)
    {
        _cache = cache;
        _scratch = state.AttentionScratch;
        _kvHeads = kvHeads;
        _headDim = headDim;
        _ropeDim = ropeDim;
        _group = heads / kvHeads;
        _qDim = heads * headDim;
        _kvDim = kvHeads * headDim;
        _scale = 1f / MathF.Sqrt(headDim);
        _positions = state.Positions;
        _sequences = state.Sequences;
        _runs = runs;
        _runTokens = runs.Tokens;
        _runStarts = runs.Starts;
        _q = state.Query;
        _k = state.Key;
        _v = state.Value;
        _cos = state.RopeCos;
        _sin = state.RopeSin;
        _output = state.AttentionOutput;
    }

    public static int ScratchFloats(KvCache cache) => cache.PositionStride + cache.HeadDim;

    public int Chunks => _runCount * _kvHeads;

    /// <summary>RoPE → KV store → attention for every run of the chunk, in <paramref name="layer"/>.</summary>
    public void Run(WorkerPool pool, int layer)
    {
        _layer = layer;
        _runCount = _runs.Count;
        pool.Run(this);
    }

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
