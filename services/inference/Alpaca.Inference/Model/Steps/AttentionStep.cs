using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// Causal grouped-query attention for every (token, head) pair of the batch: token i at position p of
/// sequence s attends to positions 0..p of s in the KV cache (this batch's keys are already stored).
/// Numerics follow llama.cpp's non-flash attention: the query is rounded to fp16 for the product with the
/// fp16 keys, scores are scaled by 1/√head_dim and soft-maxed in float, and the probabilities are rounded
/// to fp16 for the product with the fp16 values.
/// Chunks are single (token, head) pairs for a few tokens (decode) and whole tokens for prompt batches;
/// the pool hands them out dynamically, which balances the causal triangle (later positions cost more).
/// </summary>
internal sealed unsafe class AttentionStep : IParallelWork
{
    private readonly KvCache _cache;
    private readonly float*[] _scores;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly int _group;
    private readonly int _qDim;
    private readonly int _kvDim;
    private readonly float _scale;
    private int _layer;
    private int _tokens;
    private int[] _positions = [];
    private int[] _sequences = [];
    private float* _q;
    private float* _output;
    private bool _perToken;

    /// <param name="scores">Per thread: context length + head_dim floats.</param>
    public AttentionStep(KvCache cache, float*[] scores, int heads, int kvHeads, int headDim)
    {
        _cache = cache;
        _scores = scores;
        _heads = heads;
        _headDim = headDim;
        _group = heads / kvHeads;
        _qDim = heads * headDim;
        _kvDim = kvHeads * headDim;
        _scale = 1f / MathF.Sqrt(headDim);
    }

    public void Set(int layer, int tokens, int[] positions, int[] sequences, float* q, float* output)
    {
        _layer = layer;
        _tokens = tokens;
        _positions = positions;
        _sequences = sequences;
        _q = q;
        _output = output;
    }

    public int Chunks => _perToken ? _tokens : _tokens * _heads;

    public void Run(WorkerPool pool)
    {
        _perToken = _tokens >= 4 * pool.ThreadCount;
        pool.Run(this);
    }

    public void Execute(int chunk, int thread)
    {
        var scratch = _scores[thread];
        if (_perToken)
        {
            for (var h = 0; h < _heads; h++)
            {
                Head(chunk, h, scratch);
            }
        }
        else
        {
            Head(chunk / _heads, chunk % _heads, scratch);
        }
    }

    private void Head(int t, int h, float* scratch)
    {
        var pos = _positions[t];
        var seq = _sequences[t];
        var n = pos + 1;
        var q = scratch;             // head_dim floats: the fp16-rounded query
        var scores = scratch + _headDim;
        var src = _q + (long)t * _qDim + h * _headDim;
        Buffer.MemoryCopy(src, q, _headDim * sizeof(float), _headDim * sizeof(float));
        Fp16.RoundInPlace(q, _headDim);

        var kvOffset = (h / _group) * _headDim;
        var keys = _cache.Keys(_layer, seq) + kvOffset;
        var values = _cache.Values(_layer, seq) + kvOffset;
        for (var j = 0; j < n; j++)
        {
            scores[j] = VectorOps.DotHalf(q, keys + (long)j * _kvDim, _headDim) * _scale;
        }

        VectorOps.Softmax(scores, n);
        Fp16.RoundInPlace(scores, n);
        var output = _output + (long)t * _qDim + h * _headDim;
        new Span<float>(output, _headDim).Clear();
        for (var j = 0; j < n; j++)
        {
            VectorOps.AxpyHalf(scores[j], values + (long)j * _kvDim, output, _headDim);
        }
    }
}
