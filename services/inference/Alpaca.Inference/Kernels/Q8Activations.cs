namespace Alpaca.Inference.Kernels;

/// <summary>
/// Activations quantized for the integer dot products, llama.cpp's Q8_0 idea in a SIMD-friendly layout:
/// per row of K values, K int8 quants, one scale per 32-value block (d = amax/127, rounded to fp16 as
/// ggml stores it, kept as float), and two
/// per-block corrections, −8·Σq and −128·Σq. The packed weights store unsigned quants (Q4_0 nibbles
/// 0..15, Q8_0 quants + 128), so that <c>vpdpbusd</c> (unsigned × signed) needs no sign juggling;
/// starting each block's accumulator at the correction removes the offset exactly:
/// Σ(w+o)·x − o·Σx = Σ w·x.
/// </summary>
public sealed unsafe class Q8Activations : IDisposable
{
    public const int BlockSize = 32;

    private readonly NativeBuffer _quants;
    private readonly NativeBuffer _scales;
    private readonly NativeBuffer _negSum8;
    private readonly NativeBuffer _negSum128;
    private readonly sbyte* _q;
    private readonly float* _d;
    private readonly int* _n8;
    private readonly int* _n128;

    public Q8Activations(int rows, int columns)
    {
        if (columns % BlockSize != 0)
        {
            throw new ArgumentException($"Quantized activations need a multiple of {BlockSize} columns, got {columns}.", nameof(columns));
        }

        Rows = rows;
        Columns = columns;
        Blocks = columns / BlockSize;
        _quants = new NativeBuffer((long)rows * columns);
        _scales = new NativeBuffer((long)rows * Blocks * sizeof(float));
        _negSum8 = new NativeBuffer((long)rows * Blocks * sizeof(int));
        _negSum128 = new NativeBuffer((long)rows * Blocks * sizeof(int));
        _q = (sbyte*)_quants.Pointer;
        _d = _scales.As<float>();
        _n8 = _negSum8.As<int>();
        _n128 = _negSum128.As<int>();
    }

    public int Rows { get; }

    public int Columns { get; }

    public int Blocks { get; }

    public sbyte* Quants(int row) => _q + (long)row * Columns;

    public float* Scales(int row) => _d + (long)row * Blocks;

    public int* NegSum8(int row) => _n8 + (long)row * Blocks;

    public int* NegSum128(int row) => _n128 + (long)row * Blocks;

    /// <summary>Quantizes blocks [firstBlock, endBlock) of one row of floats into row <paramref name="row"/>.</summary>
    public void Quantize(KernelPath path, int row, float* x, int firstBlock, int endBlock) =>
        ActivationQuantizer.Quantize(path, x, Quants(row), Scales(row), NegSum8(row), NegSum128(row), firstBlock, endBlock);

    /// <summary>Quantizes a whole row.</summary>
    public void Quantize(KernelPath path, int row, float* x) => Quantize(path, row, x, 0, Blocks);

    public void Dispose()
    {
        _quants.Dispose();
        _scales.Dispose();
        _negSum8.Dispose();
        _negSum128.Dispose();
    }
}
