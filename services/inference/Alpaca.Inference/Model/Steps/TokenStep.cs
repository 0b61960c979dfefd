using System.Runtime.CompilerServices;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// Runs a <see cref="TokenOp"/>: inline for a few tokens (decode: cheaper than a barrier), split over
/// tokens on the pool for prompt batches.
/// </summary>
internal sealed unsafe class TokenStep(KernelPath path) : IParallelWork
{
    private TokenOp _op;

    public int Chunks => _op.Tokens;

    public void Run(WorkerPool pool, in TokenOp op, int parallelFrom)
    {
        _op = op;
        if (op.Tokens >= parallelFrom && pool.ThreadCount > 1)
        {
            pool.Run(this);
        }
        else
        {
            for (var t = 0; t < op.Tokens; t++)
            {
                Execute(t, 0);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int thread)
    {
        var t = chunk;
        var width = _op.Width;
        var x = _op.Hidden + (long)t * width;
        var o = _op.Output + (long)t * width;
        if (_op.Residual != null)
        {
            VectorOps.Add(x, _op.Residual + (long)t * width, width);
        }

        if (_op.NormGain != null)
        {
            if (path == KernelPath.Reference)
            {
                ReferenceOps.RmsNorm(new ReadOnlySpan<float>(x, width), new ReadOnlySpan<float>(_op.NormGain, width), new Span<float>(o, width), _op.Eps);
            }
            else
            {
                VectorOps.RmsNorm(x, _op.NormGain, o, width, _op.Eps);
            }
        }

        if (_op.RoundToHalf)
        {
            Fp16.RoundInPlace(o, width);
        }

        _op.Quantize?.Quantize(path, t, o);
    }
}
