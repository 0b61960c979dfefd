using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model.Steps;

/// <summary>Rotates each token's queries and keys for its position and writes its key and value into the KV cache.</summary>
internal sealed unsafe class RopeStoreStep : IParallelWork
{
    private readonly KvCache _cache;
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _ropeDim;
    private int _layer;
    private int _tokens;
    private int[] _positions = [];
    private int[] _sequences = [];
    private float* _q;
    private float* _k;
    private float* _v;
    private float* _cos;
    private float* _sin;

    public RopeStoreStep(KvCache cache, int heads, int kvHeads, int headDim, int ropeDim)
    {
        _cache = cache;
        _heads = heads;
        _kvHeads = kvHeads;
        _headDim = headDim;
        _ropeDim = ropeDim;
    }

    /// <param name="cos">Per token, ropeDim/2 cosines (and <paramref name="sin"/> sines) for its position.</param>
    public void Set(int layer, int tokens, int[] positions, int[] sequences, float* q, float* k, float* v, float* cos, float* sin)
    {
        _layer = layer;
        _tokens = tokens;
        _positions = positions;
        _sequences = sequences;
        _q = q;
        _k = k;
        _v = v;
        _cos = cos;
        _sin = sin;
    }

    public int Chunks => _tokens;

    public void Run(WorkerPool pool, int parallelFrom)
    {
        if (_tokens >= parallelFrom && pool.ThreadCount > 1)
        {
            pool.Run(this);
        }
        else
        {
            for (var t = 0; t < _tokens; t++)
            {
                Execute(t, 0);
            }
        }
    }

    public void Execute(int chunk, int thread)
    {
        var kvDim = _kvHeads * _headDim;
        var half = _ropeDim / 2;
        var t = chunk;
        {
            var cos = _cos + (long)t * half;
            var sin = _sin + (long)t * half;
            var k = _k + (long)t * kvDim;
            VectorOps.Rope(_q + (long)t * _heads * _headDim, _heads, _headDim, _ropeDim, cos, sin);
            VectorOps.Rope(k, _kvHeads, _headDim, _ropeDim, cos, sin);
            var slotOffset = (long)_positions[t] * kvDim;
            var keys = _cache.Keys(_layer, _sequences[t]) + slotOffset;
            var values = _cache.Values(_layer, _sequences[t]) + slotOffset;
            var v = _v + (long)t * kvDim;
            for (var i = 0; i < kvDim; i++)
            {
                keys[i] = Fp16.ToBits(k[i]);
                values[i] = Fp16.ToBits(v[i]);
            }
        }
    }
}
