using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// One 2-D weight, <see cref="Rows"/> output features × <see cref="Columns"/> inputs (y = W·x), in its GGUF
/// bytes (<see cref="Data"/>, row-major, used in place from the memory-mapped file) and, for Q4_0/Q8_0,
/// also repacked into the row-interleaved layout of <see cref="PackedQuantLayout"/> that the fast
/// integer kernels read, for Q4_K/Q5_K/Q6_K into <see cref="KQuantPackedLayout"/> (x86, ARM64 with sdot). F32/F16/BF16 are used in place; the reference kernels always read <see cref="Data"/>.
/// </summary>
public sealed unsafe class WeightMatrix : IDisposable
{
    private readonly NativeBuffer? _packedQuants;
    private readonly NativeBuffer? _packedScales;
    private readonly NativeBuffer? _kPacked;
    private readonly object? _owner;

    // Raw pointers cached in fields: the kernels read them per row group, and a plain field load is
    // always inlined (the buffer getters check for disposal).
    private readonly byte* _quants;
    private readonly ushort* _scales;
    private readonly byte* _kRecords;

    /// <param name="data">GGUF row bytes, kept valid by <paramref name="owner"/> (a memory map or a buffer).</param>
    public WeightMatrix(string name, GgmlType type, int rows, int columns, byte* data, object? owner, bool pack = true)
    {
        if (!IsSupported(type))
        {
            throw new NotSupportedException($"Weight '{name}' has type {type}; the engine multiplies F32, F16, BF16, Q8_0, Q4_0 and Q2_K … Q6_K weights.");
        }

        if (rows <= 0 || columns <= 0)
        {
            throw new ArgumentException($"Weight '{name}' has an empty shape [{columns}, {rows}].");
        }

        Name = name;
        Type = type;
        Rows = rows;
        Columns = columns;
        RowBytes = GgmlTypeInfo.RowBytes(type, columns);
        Data = data;
        _owner = owner;
        if (pack && IsQuantized)
        {
            Groups = (rows + PackedQuantLayout.RowsPerGroup - 1) / PackedQuantLayout.RowsPerGroup;
            Blocks = columns / PackedQuantLayout.BlockSize;
            var groupBytes = (long)Blocks * PackedQuantLayout.QuantBytesPerGroupBlock(type);
            _packedQuants = new NativeBuffer(Groups * groupBytes);
            _packedScales = new NativeBuffer((long)Groups * Blocks * PackedQuantLayout.RowsPerGroup * sizeof(ushort));
            _quants = _packedQuants.Pointer;
            _scales = _packedScales.As<ushort>();
            PackedQuantLayout.Pack(this, _quants, _scales);
        }
        else if (pack && KQuantPackedLayout.IsUsed(type) && columns % Q8Activations.SuperBlockSize == 0)
        {
            _kPacked = new NativeBuffer(KQuantPackedLayout.Bytes(type, rows, columns));
            _kRecords = _kPacked.Pointer;
            KQuantPackedLayout.Pack(this, _kRecords);
        }
    }

    public string Name { get; }

    public GgmlType Type { get; }

    public int Rows { get; }

    public int Columns { get; }

    public long RowBytes { get; }

    /// <summary>The GGUF bytes: row r starts at <c>Data + r·RowBytes</c>.</summary>
    public byte* Data { get; }

    public bool IsQuantized => Type is GgmlType.Q4_0 or GgmlType.Q8_0;

    /// <summary>True when the integer kernels' packed copy exists.</summary>
    public bool IsPacked => _packedQuants is not null;

    /// <summary>Groups of 8 rows in the packed copy (the last one zero-padded).</summary>
    public int Groups { get; }

    /// <summary>32-column blocks per row.</summary>
    public int Blocks { get; }

    /// <summary>The packed quants (null when <see cref="IsPacked"/> is false).</summary>
    public byte* PackedQuants => _quants;

    /// <summary>The packed fp16 scales (null when <see cref="IsPacked"/> is false).</summary>
    public ushort* PackedScales => _scales;

    /// <summary>True when the K-quant kernels' repacked copy (<see cref="KQuantPackedLayout"/>: x86 with AVX2, ARM64 with sdot) exists.</summary>
    public bool IsKPacked => _kPacked is not null;

    /// <summary>The K-quant records (null when <see cref="IsKPacked"/> is false).</summary>
    internal byte* KPacked => _kRecords;

    /// <summary>Bytes a matrix–vector product streams (the packed copy when there is one).</summary>
    public long StreamBytes => (_packedQuants?.Bytes + _packedScales?.Bytes) ?? _kPacked?.Bytes ?? RowBytes * Rows;

    public ReadOnlySpan<byte> Row(int row) => new(Data + row * RowBytes, checked((int)RowBytes));

    /// <summary>Keeps the owner of <see cref="Data"/> alive as long as this matrix.</summary>
    public object? Owner => _owner;

    public static bool IsSupported(GgmlType type) =>
        type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0 || GgmlTypeInfo.IsKQuant(type);

    /// <summary>
    /// Q4_K, Q5_K and Q6_K (the types of llama.cpp's Q4_K_M / Q5_K_M / Q6_K mixtures) are multiplied by
    /// the integer K-quant kernels against Q8_K activations: on x86 and ARM64 from the repacked copy
    /// (<see cref="KQuantPackedKernels"/>, <see cref="KQuantNeonKernels"/>), on the Portable path in place
    /// (<see cref="KQuantKernels"/>).
    /// </summary>
    public bool HasKQuantKernel => KQuantBlock.HasKernel(Type);

    /// <summary>True when the fast paths read this matrix's input quantized (<see cref="Q8Activations"/>).</summary>
    public bool ReadsQ8 => IsQuantized || HasKQuantKernel;

    /// <summary>
    /// The other K-quants (Q2_K, Q3_K: parts of llama.cpp's Q2_K / Q3_K_M mixtures) run through a simple
    /// path: each row is decoded to float with the reference codec and multiplied by float activations.
    /// Correct and slower.
    /// </summary>
    public bool IsDecodedPerRow => GgmlTypeInfo.IsKQuant(Type) && !HasKQuantKernel;

    public void Dispose()
    {
        _packedQuants?.Dispose();
        _packedScales?.Dispose();
        _kPacked?.Dispose();
    }

    public override string ToString() => $"{Name} {Type} {Rows}×{Columns}";
}
