using System.Runtime.CompilerServices;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model.Steps;

/// <summary>
/// One parallel step of up to three matrix products that share their input (Q, K and V), or the fused
/// SwiGLU pair (gate and up, then h = silu(gate)·up, quantized in place for the down projection).
/// Rows are cut into chunks of a multiple of 32 (whole packed groups and whole quantization blocks of h),
/// about four per thread, which the pool hands out dynamically.
/// </summary>
internal sealed unsafe class MatMulStep : IParallelWork
{
    private const int ChunksPerThread = 4;
    private const int ChunkGranule = 32;

    private readonly KernelPath _path;
    private readonly float*[] _scratch;
    private readonly Target[] _targets = new Target[3];
    private int _count;
    private int _totalChunks;
    private MatMulInput _input;
    private int _threads;

    // SwiGLU fusion: targets 0 (gate → h) and 1 (up → u) share chunk rows; h = silu(h)·u, quantized to hq.
    private bool _swiglu;
    private float* _h;
    private float* _u;
    private int _hStride;
    private Q8Activations? _hq;
    private bool _hRoundHalf;

    public MatMulStep(KernelPath path, float*[] scratch)
    {
        _path = path;
        _scratch = scratch;
    }

    public void Begin(in MatMulInput input, int threads)
    {
        _input = input;
        _threads = threads;
        _count = 0;
        _totalChunks = 0;
        _swiglu = false;
    }

    public void Add(WeightMatrix w, float* y, int yStride)
    {
        var chunkRows = ChunkRows(w.Rows, _threads);
        var chunks = (w.Rows + chunkRows - 1) / chunkRows;
        _targets[_count++] = new Target(w, y, yStride, chunkRows, _totalChunks, chunks);
        _totalChunks += chunks;
    }

    /// <summary>gate and up (same shape) → h = silu(gate·x)·(up·x) in <see cref="SwiGluOutput.Hidden"/>, rounded and quantized as it says.</summary>
    public void AddSwiGlu(WeightMatrix gate, WeightMatrix up, in SwiGluOutput output)
    {
        _hRoundHalf = output.RoundToHalf;
        // h's Q8_K form (a K-quant down_proj) is quantized per 256 values, so chunks hold whole super-blocks.
        var granule = output.HiddenQ8 is { HasSuperBlocks: true } ? Q8Activations.SuperBlockSize : ChunkGranule;
        var chunkRows = ChunkRows(gate.Rows, _threads, granule);
        var chunks = (gate.Rows + chunkRows - 1) / chunkRows;
        _targets[0] = new Target(gate, output.Hidden, output.Width, chunkRows, 0, chunks);
        _targets[1] = new Target(up, output.Up, output.Width, chunkRows, 0, chunks);
        _count = 2;
        _totalChunks = chunks;
        _swiglu = true;
        _h = output.Hidden;
        _u = output.Up;
        _hStride = output.Width;
        _hq = output.HiddenQ8;
    }

    public int Chunks => _totalChunks;

    public void Run(WorkerPool pool) => pool.Run(this);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int thread)
    {
        var scratch = _scratch[thread];
        if (_swiglu)
        {
            RunSwiGluChunk(chunk, scratch);
            return;
        }

        for (var i = 0; i < _count; i++)
        {
            ref var t = ref _targets[i];
            if (chunk >= t.FirstChunk && chunk < t.FirstChunk + t.Chunks)
            {
                var r0 = (chunk - t.FirstChunk) * t.ChunkRows;
                var r1 = Math.Min(t.W.Rows, r0 + t.ChunkRows);
                MatMul.Rows(_path, t.W, _input, r0, r1, t.Y, t.YStride, scratch);
                return;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunSwiGluChunk(int c, float* scratch)
    {
        ref var gate = ref _targets[0];
        ref var up = ref _targets[1];
        var r0 = c * gate.ChunkRows;
        var r1 = Math.Min(gate.W.Rows, r0 + gate.ChunkRows);
        MatMul.Rows(_path, gate.W, _input, r0, r1, gate.Y, gate.YStride, scratch);
        MatMul.Rows(_path, up.W, _input, r0, r1, up.Y, up.YStride, scratch);
        for (var t = 0; t < _input.Tokens; t++)
        {
            var h = _h + (long)t * _hStride;
            VectorOps.SiluMul(h + r0, _u + (long)t * _hStride + r0, h + r0, r1 - r0);
            if (_hRoundHalf)
            {
                Fp16.RoundInPlace(h + r0, r1 - r0);
            }

            _hq?.Quantize(_path, t, h, r0 / Q8Activations.BlockSize, r1 / Q8Activations.BlockSize);
        }
    }

    private static int ChunkRows(int rows, int threads, int granule = ChunkGranule)
    {
        var target = (rows + threads * ChunksPerThread - 1) / (threads * ChunksPerThread);
        return Math.Max(granule, (target + granule - 1) / granule * granule);
    }

    private readonly struct Target(WeightMatrix w, float* y, int yStride, int chunkRows, int firstChunk, int chunks)
    {
        public readonly WeightMatrix W = w;
        public readonly float* Y = y;
        public readonly int YStride = yStride;
        public readonly int ChunkRows = chunkRows;
        public readonly int FirstChunk = firstChunk;
        public readonly int Chunks = chunks;
    }
}
