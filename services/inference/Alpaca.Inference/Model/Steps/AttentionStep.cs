using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Alpaca.Inference.Backends;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// RoPE, KV cache write and causal grouped-query attention in one parallel step. A chunk is one
/// sequence's tokens in this batch (a whole prompt, or one decode token) × one KV head: it rotates
/// and stores that head's keys and values for those tokens into the sequence's blocks, decodes the
/// sequence's keys (transposed) and values into thread scratch, then, for every query head sharing the
/// KV head, rotates the queries and attends — token at position p to positions 0..p of its sequence.
/// Chunks touch disjoint cache rows and disjoint query slices, so they need no ordering among
/// themselves. The gather makes attention independent of the block layout and the element type (f16,
/// f32, q8_0); <see cref="ReferenceAttention"/> is the plain version it is tested against.
/// <para>Numerics follow llama.cpp's default (non-flash) attention: keys and values are stored as fp16
/// values, the query is rounded to fp16 for its product with the keys, scores are scaled by
/// 1/√head_dim and soft-maxed, and the probabilities are rounded to fp16 for the product with values
/// (with an f32 cache nothing is rounded).</para>
/// </summary>
internal sealed unsafe class AttentionStep : IParallelWork
{
    private readonly KvCache _cache;
    private readonly SlotTable _slots;
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
    private readonly bool _inPlace;
    private int _layer;
    private int _runCount;

    /// <summary>
    /// Reads the chunk's queries, keys and values (<see cref="RunState.Query"/>, <see cref="RunState.Key"/>,
    /// <see cref="RunState.Value"/>), each token's RoPE cos/sin, position and sequence, and the grouping in
    /// <paramref name="runs"/>; writes <see cref="RunState.AttentionOutput"/>. The scratch is
    /// <see cref="RunState.AttentionScratch"/> (<see cref="ScratchFloats"/> floats per thread).
    /// </summary>
    public AttentionStep(KvCache cache, SlotTable slots, RunState state, SequenceRuns runs, int heads, int kvHeads, int headDim, int ropeDim)
    {
        _cache = cache;
        _slots = slots;
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
        _inPlace = cache.Type == KvCacheType.F16 && HalfCacheAttention.Supports(headDim);
    }

    /// <summary>Positions per transposed key row in scratch: the context rounded up to 16 (whole vectors of scores).</summary>
    public static int Stride(int contextLength) => (contextLength + 15) / 16 * 16;

    /// <summary>A query copy, one head's scores, and one sequence's decoded keys and values.</summary>
    public static long ScratchFloats(int contextLength, int headDim) => headDim + Stride(contextLength) + (2L * Stride(contextLength) * headDim);

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
        var table = _slots.Table(seq);
        var blockTokens = _cache.BlockTokens;
        var half = _ropeDim / 2;
        var hd = _headDim;

        // Rotate and store this head's keys and values in the sequence's blocks (encoding rounds them as
        // the cache type holds them).
        for (var i = first; i < end; i++)
        {
            var t = _runTokens[i];
            var pos = _positions[t];
            var k = _k + (long)t * _kvDim + kvHead * hd;
            var v = _v + (long)t * _kvDim + kvHead * hd;
            VectorOps.Rope(k, 1, hd, _ropeDim, _cos + (long)t * half, _sin + (long)t * half);
            _cache.Store(_layer, table[pos / blockTokens], pos % blockTokens, kvHead, k, v);
        }

        // Decode (a query or a few per KV head): attend over the fp16 cache in place, no gather.
        if (_inPlace && (end - first) * _group <= InPlaceQueries)
        {
            AttendInPlace(first, end, table, kvHead, thread);
            return;
        }

        // A run's positions increase, so its last token sees the most.
        var n = _positions[_runTokens[end - 1]] + 1;
        var stride = Stride(n);
        var q = _scratch[thread];
        var scores = q + hd;
        var keys = scores + Stride(_slots.ContextLength);
        var values = keys + ((long)stride * hd);
        _cache.Gather(_layer, table, n, kvHead, keys, stride, values);

        var round = _cache.RoundsToHalf;
        for (var h = kvHead * _group; h < (kvHead + 1) * _group; h++)
        {
            for (var i = first; i < end; i++)
            {
                var t = _runTokens[i];
                var qh = _q + (long)t * _qDim + h * hd;
                VectorOps.Rope(qh, 1, hd, _ropeDim, _cos + (long)t * half, _sin + (long)t * half);
                Buffer.MemoryCopy(qh, q, hd * sizeof(float), hd * sizeof(float));
                if (round)
                {
                    Fp16.RoundInPlace(q, hd);
                }

                Attend(q, keys, stride, values, hd, _scale, round, _positions[t] + 1, scores, _output + (long)t * _qDim + h * hd);
            }
        }
    }

    // Each query reads the sequence's cached rows once; the gather reads them once for all the run's
    // queries but costs several times a read per element, so it wins from about this many queries.
    private const int InPlaceQueries = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AttendInPlace(int first, int end, int[] table, int kvHead, int thread)
    {
        var hd = _headDim;
        var half = _ropeDim / 2;
        var q = _scratch[thread];
        var scores = q + hd;
        var qScaled = scores + Stride(_slots.ContextLength);
        for (var h = kvHead * _group; h < (kvHead + 1) * _group; h++)
        {
            for (var i = first; i < end; i++)
            {
                var t = _runTokens[i];
                var qh = _q + (long)t * _qDim + h * hd;
                VectorOps.Rope(qh, 1, hd, _ropeDim, _cos + (long)t * half, _sin + (long)t * half);
                Buffer.MemoryCopy(qh, q, hd * sizeof(float), hd * sizeof(float));
                Fp16.RoundInPlace(q, hd);
                HalfCacheAttention.Attend(_cache, _layer, table, kvHead, _positions[t] + 1, q, _scale, qScaled, scores, _output + (long)t * _qDim + h * hd);
            }
        }
    }

    /// <summary>
    /// One query head over n positions of decoded keys (transposed, row stride <paramref name="stride"/>, a
    /// multiple of 16) and values ([position][head_dim]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Attend(float* q, float* keys, int stride, float* values, int hd, float scaleFactor, bool roundToHalf, int n, float* scores, float* output)
    {
        // Scores of 16 positions at a time: Σ_d q[d]·K[d][j..j+16], four dimensions per step in four
        // independent accumulators. Lanes past n read unwritten scratch (rows are padded to 16) and are
        // never used.
        var scale = Vector512.Create(scaleFactor);
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
        if (roundToHalf)
        {
            Fp16.RoundInPlace(scores, n);
        }

        new Span<float>(output, hd).Clear();
        for (var j = 0; j < n; j++)
        {
            VectorOps.Axpy(scores[j], values + (long)j * hd, output, hd);
        }
    }
}
