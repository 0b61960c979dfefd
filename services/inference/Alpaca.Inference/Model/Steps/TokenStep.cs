using System.Runtime.CompilerServices;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// The per-token glue between matrix products: optionally add a residual (x += r), optionally RMS-normalise
/// (out = norm(x)·gain), optionally quantize the result for the next integer matmul. Runs inline for a
/// few tokens (decode: cheaper than a barrier) and split over tokens on the pool for prompt batches.
/// </summary>
internal sealed unsafe class TokenStep : IParallelWork
{
    private readonly KernelPath _path;
    private float* _x;
    private float* _residual;
    private float* _gain;
    private float* _output;
    private int _stride;
    private int _n;
    private int _tokens;
    private float _eps;
    private Q8Activations? _quantized;
    private bool _roundHalf;

    public TokenStep(KernelPath path) => _path = path;

    /// <summary>
    /// x[t] += residual[t] (when given); output[t] = rmsnorm(x[t])·gain (when gain is given; else output
    /// must be x); then round output to fp16 precision (for F16 weights) and/or quantize it.
    /// </summary>
    public void Set(float* x, float* residual, float* gain, float eps, float* output, int n, int stride, int tokens, Q8Activations? quantized, bool roundHalf = false)
    {
        _roundHalf = roundHalf;
        _x = x;
        _residual = residual;
        _gain = gain;
        _eps = eps;
        _output = output;
        _n = n;
        _stride = stride;
        _tokens = tokens;
        _quantized = quantized;
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int thread)
    {
        var t = chunk;
        {
            var x = _x + (long)t * _stride;
            var o = _output + (long)t * _stride;
            if (_residual != null)
            {
                VectorOps.Add(x, _residual + (long)t * _stride, _n);
            }

            if (_gain != null)
            {
                if (_path == KernelPath.Reference)
                {
                    ReferenceOps.RmsNorm(new ReadOnlySpan<float>(x, _n), new ReadOnlySpan<float>(_gain, _n), new Span<float>(o, _n), _eps);
                }
                else
                {
                    VectorOps.RmsNorm(x, _gain, o, _n, _eps);
                }
            }

            if (_roundHalf)
            {
                Fp16.RoundInPlace(o, _n);
            }

            _quantized?.Quantize(_path, t, o);
        }
    }
}
