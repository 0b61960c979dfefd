namespace Alpaca.Inference.Kernels;

/// <summary>
/// Activations quantized for the integer dot products, llama.cpp's Q8_0 idea in a SIMD-friendly layout:
/// per row of K values, K int8 quants, one scale per 32-value block (d = amax/127, rounded to fp16 as
/// ggml stores it, kept as float), and two
/// per-block corrections, −8·Σq and −128·Σq. The packed weights store unsigned quants (Q4_0 nibbles
/// 0..15, Q8_0 quants + 128), so that <c>vpdpbusd</c> (unsigned × signed) needs no sign juggling;
/// starting each block's accumulator at the correction removes the offset exactly:
/// Σ(w+o)·x − o·Σx = Σ w·x.
/// <para>With <c>superBlocks</c> (consumers with Q4_K/Q5_K/Q6_K weights) each row also gets ggml's Q8_K
/// form: one float scale per 256 values and int8 quants of its own, plus the sum of every 16 quants
/// (ggml's <c>bsums</c>), which the K-quant kernels use to apply sub-block mins and offsets.</para>
/// </summary>
public sealed unsafe class Q8Activations : IDisposable
{
    public const int BlockSize = 32;

    /// <summary>Values per Q8_K super-block (ggml's QK_K).</summary>
    public const int SuperBlockSize = 256;

    private readonly NativeBuffer _quants;
    private readonly NativeBuffer _scales;
    private readonly NativeBuffer _negSum8;
    private readonly NativeBuffer _negSum128;
    private readonly sbyte* _q;
    private readonly float* _d;
    private readonly int* _n8;
    private readonly int* _n128;

    private readonly NativeBuffer? _kQuants;
    private readonly NativeBuffer? _kScales;
    private readonly NativeBuffer? _kSums;

    public Q8Activations(int rows, int columns, bool superBlocks = false)
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
        if (superBlocks)
        {
            if (columns % SuperBlockSize != 0)
            {
                throw new ArgumentException($"Q8_K activations need a multiple of {SuperBlockSize} columns, got {columns}.", nameof(columns));
            }

            SuperBlocks = columns / SuperBlockSize;
            _kQuants = new NativeBuffer((long)rows * columns);
            _kScales = new NativeBuffer((long)rows * SuperBlocks * sizeof(float));
            _kSums = new NativeBuffer((long)rows * SuperBlocks * 16 * sizeof(int));
        }
    }

    /// <summary>Q8_K super-blocks per row (0 when the row has no Q8_K form).</summary>
    public int SuperBlocks { get; }

    public bool HasSuperBlocks => _kQuants is not null;

    /// <summary>Q8_K quants of a row (null without the Q8_K form).</summary>
    public sbyte* KQuants(int row) => _kQuants is null ? null : (sbyte*)_kQuants.Pointer + (long)row * Columns;

    /// <summary>Q8_K scales (float, as ggml's block_q8_K.d), one per super-block.</summary>
    public float* KScales(int row) => _kScales is null ? null : _kScales.As<float>() + (long)row * SuperBlocks;

    /// <summary>Sums of each 16 Q8_K quants (ggml's bsums), 16 per super-block.</summary>
    public int* KSums(int row) => _kSums is null ? null : _kSums.As<int>() + (long)row * SuperBlocks * 16;

    public int Rows { get; }

    public int Columns { get; }

    public int Blocks { get; }

    public sbyte* Quants(int row) => _q + (long)row * Columns;

    public float* Scales(int row) => _d + (long)row * Blocks;

    public int* NegSum8(int row) => _n8 + (long)row * Blocks;

    public int* NegSum128(int row) => _n128 + (long)row * Blocks;

    /// <summary>
    /// Quantizes blocks [firstBlock, endBlock) of one row of floats into row <paramref name="row"/>.
    /// The Q8_K form, when present, gets the super-blocks that lie wholly inside the range.
    /// </summary>
    public void Quantize(KernelPath path, int row, float* x, int firstBlock, int endBlock)
    {
        ActivationQuantizer.Quantize(path, x, Quants(row), Scales(row), NegSum8(row), NegSum128(row), firstBlock, endBlock);
        if (_kQuants is not null)
        {
            const int per = SuperBlockSize / BlockSize;
            for (var sb = (firstBlock + per - 1) / per; (sb + 1) * per <= endBlock; sb++)
            {
                ActivationQuantizer.QuantizeSuperBlock(x + sb * SuperBlockSize, KQuants(row) + sb * SuperBlockSize, out KScales(row)[sb], KSums(row) + sb * 16);
            }
        }
    }

    /// <summary>Quantizes a whole row.</summary>
    public void Quantize(KernelPath path, int row, float* x) => Quantize(path, row, x, 0, Blocks);

    public void Dispose()
    {
        _quants.Dispose();
        _scales.Dispose();
        _negSum8.Dispose();
        _negSum128.Dispose();
        _kQuants?.Dispose();
        _kScales?.Dispose();
        _kSums?.Dispose();
    }
}
