using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Gguf;

/// <summary>
/// A GGUF v2/v3 file, memory-mapped read-only. Header, metadata and tensor infos are parsed and
/// validated on open (a malformed file throws <see cref="GgufFormatException"/>); tensor data stays
/// in the mapping and is handed out zero-copy.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    private readonly MappedMemory _memory;
    private readonly Dictionary<string, GgufTensorInfo> _byName;
    private bool _disposed;

    private GgufFile(MappedMemory memory, string? path)
    {
        _memory = memory;
        Path = path;
        try
        {
            var parsed = GgufParser.Parse(new GgufCursor(memory.Pointer, memory.Length, path));
            Version = parsed.Version;
            Metadata = parsed.Metadata;
            Tensors = parsed.Tensors;
            Alignment = parsed.Alignment;
            DataOffset = parsed.DataOffset;
            _byName = parsed.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates a GGUF file, mapping it read-only.</summary>
    public static GgufFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new GgufFile(MappedMemory.MapFile(path), path);
    }

    /// <summary>Parses a GGUF image held in memory (copied to native memory so pointers stay valid).</summary>
    public static GgufFile FromBytes(ReadOnlySpan<byte> bytes, string? name = null) =>
        new(MappedMemory.Copy(bytes), name);

    /// <summary>The file path, or the name given to <see cref="FromBytes"/>.</summary>
    public string? Path { get; }

    public uint Version { get; }

    /// <summary>Data alignment: <c>general.alignment</c> or 32.</summary>
    public uint Alignment { get; }

    public GgufMetadata Metadata { get; }

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Absolute file offset of the data section (tensor offsets are relative to it).</summary>
    public long DataOffset { get; }

    public long FileSize => _memory.Length;

    /// <summary><c>general.architecture</c>, e.g. "llama", or null.</summary>
    public string? Architecture => Metadata.GetString("general.architecture");

    public bool TryGetTensor(string name, out GgufTensorInfo info) => _byName.TryGetValue(name, out info!);

    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"{Path ?? "GGUF"}: no tensor named '{name}'.");

    /// <summary>Address of a tensor's first byte inside the mapping; valid until this file is disposed.</summary>
    public byte* GetTensorPointer(GgufTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckOwned(info);
        return _memory.Pointer + DataOffset + (long)info.Offset;
    }

    /// <summary>A tensor's bytes as a span (tensors over 2 GiB must use <see cref="GetTensorPointer"/>).</summary>
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo info)
    {
        if (info.ByteSize > int.MaxValue)
        {
            throw new InvalidOperationException($"Tensor '{info.Name}' is {info.ByteSize} bytes, too large for a span; use GetTensorPointer.");
        }

        return new ReadOnlySpan<byte>(GetTensorPointer(info), (int)info.ByteSize);
    }

    /// <summary>Row <paramref name="row"/> of a tensor (ne0 elements) as bytes in the tensor's type.</summary>
    public ReadOnlySpan<byte> GetRowBytes(GgufTensorInfo info, long row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, info.RowCount);
        var rowBytes = info.RowBytes;
        return new ReadOnlySpan<byte>(GetTensorPointer(info) + (row * rowBytes), checked((int)rowBytes));
    }

    /// <summary>
    /// Tells the OS a tensor's bytes are not needed in memory now (a matrix the engine has copied into its
    /// own layout): the mapped pages wholly inside it leave this process's resident set and are read back
    /// from the file if the tensor is touched again, so its bytes stay valid. No-op for a file read into
    /// memory (<see cref="FromBytes"/>) and where the OS has no <c>madvise</c>. Returns the bytes released.
    /// </summary>
    public long ReleaseTensorPages(GgufTensorInfo info)
    {
        var start = GetTensorPointer(info);
        return _memory.Release(start, (long)info.ByteSize);
    }

    /// <summary>Decodes a whole tensor to floats (reference codecs; for conversion and tests).</summary>
    public float[] ReadAsFloat32(GgufTensorInfo info)
    {
        var result = new float[checked((int)info.ElementCount)];
        var rowLength = (int)info.RowLength;
        for (long r = 0; r < info.RowCount; r++)
        {
            Quantizer.Dequantize(info.Type, GetRowBytes(info, r), result.AsSpan((int)(r * rowLength), rowLength));
        }

        return result;
    }

    private void CheckOwned(GgufTensorInfo info)
    {
        // Matching name, type, offset and size keep a pointer inside this file's data section.
        if (!_byName.TryGetValue(info.Name, out var own) || own.Offset != info.Offset || own.Type != info.Type || own.ByteSize != info.ByteSize)
        {
            throw new ArgumentException($"Tensor '{info.Name}' does not belong to {Path ?? "this GGUF file"}.", nameof(info));
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _memory.Dispose();
        }
    }
}
