using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// One 2-D weight, <see cref="Rows"/> output features × <see cref="Columns"/> inputs (y = W·x), in its GGUF
/// bytes (<see cref="Data"/>, row-major, used in place from the memory-mapped file) and, for Q4_0/Q8_0,
/// also repacked into the row-interleaved layout of <see cref="PackedQuantLayout"/> that the fast
/// integer kernels read. F32/F16/BF16 are used in place; the reference kernels always read <see cref="Data"/>.
/// </summary>
public sealed unsafe class WeightMatrix : IDisposable
{
    private readonly NativeBuffer? _packedQuants;
    private readonly NativeBuffer? _packedScales;
    private readonly object? _owner;

    /// <param name="data">GGUF row bytes, kept valid by <paramref name="owner"/> (a memory map or a buffer).</param>
    public WeightMatrix(string name, GgmlType type, int rows, int columns, byte* data, object? owner, bool pack = true)
    {
        if (!IsSupported(type))
        {
            throw new NotSupportedException($"Weight '{name}' has type {type}; the engine multiplies F32, F16, BF16, Q8_0 and Q4_0 weights.");
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
            PackedQuantLayout.Pack(this, _packedQuants.Pointer, _packedScales.As<ushort>());
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

    public byte* PackedQuants => _packedQuants is { } b ? b.Pointer : throw new InvalidOperationException($"Weight '{Name}' is not packed.");

    public ushort* PackedScales => _packedScales is { } b ? b.As<ushort>() : throw new InvalidOperationException($"Weight '{Name}' is not packed.");

    /// <summary>Bytes a matrix–vector product streams (the packed copy when there is one).</summary>
    public long StreamBytes => (_packedQuants?.Bytes + _packedScales?.Bytes) ?? RowBytes * Rows;

    public ReadOnlySpan<byte> Row(int row) => new(Data + row * RowBytes, checked((int)RowBytes));

    /// <summary>Keeps the owner of <see cref="Data"/> alive as long as this matrix.</summary>
    public object? Owner => _owner;

    public static bool IsSupported(GgmlType type) =>
        type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0;

    public void Dispose()
    {
        _packedQuants?.Dispose();
        _packedScales?.Dispose();
    }

    public override string ToString() => $"{Name} {Type} {Rows}×{Columns}";
}
