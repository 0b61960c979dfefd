using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Safetensors;

/// <summary>
/// A safetensors file, memory-mapped read-only: u64 little-endian header length N, an N-byte JSON
/// header (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}</c>),
/// then the data section. Every entry is validated against the file size on open.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>The reference implementation refuses headers over 100 MB; so do we (it bounds the JSON parse).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MappedMemory _memory;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private bool _disposed;

    private SafetensorsFile(MappedMemory memory, string path)
    {
        _memory = memory;
        Path = path;
        try
        {
            (Metadata, Tensors, DataOffset) = Parse(memory, path);
            _byName = Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    public static SafetensorsFile Open(string path) => new(MappedMemory.MapFile(path), path);

    public string Path { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>Absolute file offset of the data section (8 + header length).</summary>
    public long DataOffset { get; }

    public bool TryGetTensor(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    public SafetensorsTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    public byte* GetTensorPointer(SafetensorsTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byName.TryGetValue(info.Name, out var own) || own.DataStart != info.DataStart || own.DataEnd != info.DataEnd)
        {
            throw new ArgumentException($"Tensor '{info.Name}' does not belong to {Path}.", nameof(info));
        }

        return _memory.Pointer + DataOffset + info.DataStart;
    }

    public ReadOnlySpan<byte> GetTensorBytes(SafetensorsTensorInfo info) =>
        info.ByteSize <= int.MaxValue
            ? new ReadOnlySpan<byte>(GetTensorPointer(info), (int)info.ByteSize)
            : throw new InvalidOperationException($"Tensor '{info.Name}' is {info.ByteSize} bytes, too large for a span; use GetTensorPointer.");

    /// <summary>Decodes a floating-point tensor (F32, F16, BF16, F64) to F32.</summary>
    public float[] ReadAsFloat32(SafetensorsTensorInfo info)
    {
        var bytes = GetTensorBytes(info);
        var n = checked((int)info.ElementCount);
        var result = new float[n];
        switch (info.DType)
        {
            case SafetensorsDType.F32:
                bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
                break;
            case SafetensorsDType.F16:
                HalfConverter.HalfToFloat(MemoryMarshal.Cast<byte, ushort>(bytes), result);
                break;
            case SafetensorsDType.BF16:
                HalfConverter.Bf16ToFloat(MemoryMarshal.Cast<byte, ushort>(bytes), result);
                break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (var i = 0; i < n; i++)
                {
                    result[i] = (float)doubles[i];
                }

                break;
            default:
                throw new NotSupportedException($"{Path}: tensor '{info.Name}' is {info.DType}, not a floating-point type.");
        }

        return result;
    }

    private static (IReadOnlyDictionary<string, string>, IReadOnlyList<SafetensorsTensorInfo>, long) Parse(MappedMemory memory, string path)
    {
        var fileLength = memory.Length;
        if (fileLength < 8)
        {
            throw new SafetensorsFormatException(path, "header length", $"file is {fileLength} bytes, shorter than the 8-byte header length");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(memory.Pointer, 8));
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new SafetensorsFormatException(path, "header length", $"{headerLength} bytes declared but only {fileLength - 8} follow");
        }

        if (headerLength > MaxHeaderBytes)
        {
            throw new SafetensorsFormatException(path, "header length", $"{headerLength} bytes exceeds the {MaxHeaderBytes}-byte limit");
        }

        var dataOffset = 8 + (long)headerLength;
        var dataLength = fileLength - dataOffset;
        var header = new ReadOnlySpan<byte>(memory.Pointer + 8, (int)headerLength);

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, "header", $"invalid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SafetensorsFormatException(path, "header", "is not a JSON object");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensorInfo>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    ReadMetadata(prop.Value, metadata, path);
                    continue;
                }

                tensors.Add(ReadEntry(prop, dataLength, path));
            }

            if (tensors.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count() != tensors.Count)
            {
                throw new SafetensorsFormatException(path, "header", "duplicate tensor names");
            }

            var sorted = tensors.Where(t => t.ByteSize > 0).OrderBy(t => t.DataStart).ToList();
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].DataStart < sorted[i - 1].DataEnd)
                {
                    throw new SafetensorsFormatException(path, $"'{sorted[i].Name}'.data_offsets", $"overlaps tensor '{sorted[i - 1].Name}'");
                }
            }

            return (metadata, tensors, dataOffset);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(path, "__metadata__", "must be an object of strings");
        }

        foreach (var m in value.EnumerateObject())
        {
            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String
                ? m.Value.GetString()!
                : throw new SafetensorsFormatException(path, $"__metadata__.{m.Name}", "values must be strings");
        }
    }

    private static SafetensorsTensorInfo ReadEntry(JsonProperty prop, long dataLength, string path)
    {
        var name = prop.Name;
        var e = prop.Value;
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(path, $"'{name}'", "entry is not an object");
        }

        if (!e.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
        {
            throw new SafetensorsFormatException(path, $"'{name}'.dtype", "missing or not a string");
        }

        if (!SafetensorsDTypes.TryParse(dtypeEl.GetString()!, out var dtype))
        {
            throw new SafetensorsFormatException(path, $"'{name}'.dtype", $"unknown dtype '{dtypeEl.GetString()}'");
        }

        if (!e.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsFormatException(path, $"'{name}'.shape", "missing or not an array");
        }

        var shape = new long[shapeEl.GetArrayLength()];
        long elements = 1;
        var i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var n) || n < 0)
            {
                throw new SafetensorsFormatException(path, $"'{name}'.shape[{i}]", $"must be a non-negative integer, found {d.GetRawText()}");
            }

            if (n != 0 && elements > long.MaxValue / n)
            {
                throw new SafetensorsFormatException(path, $"'{name}'.shape", "element count overflows int64");
            }

            elements *= n;
            shape[i++] = n;
        }

        if (!e.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2
            || !offEl[0].TryGetInt64(out var begin) || !offEl[1].TryGetInt64(out var end))
        {
            throw new SafetensorsFormatException(path, $"'{name}'.data_offsets", "must be [begin, end] integers");
        }

        if (begin < 0 || end < begin || end > dataLength)
        {
            throw new SafetensorsFormatException(path, $"'{name}'.data_offsets", $"[{begin}, {end}] is outside the {dataLength}-byte data section (file truncated or header corrupt)");
        }

        var size = SafetensorsDTypes.ElementSize(dtype);
        if (elements > long.MaxValue / size || end - begin != elements * size)
        {
            throw new SafetensorsFormatException(path, $"'{name}'.data_offsets", $"span of {end - begin} bytes does not match {elements} {dtype} elements");
        }

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
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
