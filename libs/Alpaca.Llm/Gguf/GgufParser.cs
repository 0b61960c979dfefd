using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Gguf;

/// <summary>
/// Parses the GGUF header, metadata and tensor infos, validating every count, length, type and offset
/// against the file size before anything is allocated. Result: what <see cref="GgufFile"/> exposes.
/// </summary>
internal static class GgufParser
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian u32
    public const uint DefaultAlignment = 32;
    public const int MaxDimensions = 4; // GGML_MAX_DIMS
    public const int MaxArrayNesting = 8;

    // Smallest possible encodings, used to reject counts the remaining bytes cannot possibly hold.
    private const long MinKvBytes = 8 + 4 + 1;          // empty key, type tag, 1-byte value
    private const long MinTensorInfoBytes = 8 + 4 + 4 + 8; // empty name, n_dims = 0, type, offset

    public sealed record Result(uint Version, GgufMetadata Metadata, List<GgufTensorInfo> Tensors, uint Alignment, long DataOffset);

    public static Result Parse(GgufCursor c)
    {
        var magic = c.U32("magic");
        if (magic != Magic)
        {
            throw c.Error("magic", $"expected 'GGUF' (0x{Magic:X8}) but found 0x{magic:X8}: not a GGUF file", 0);
        }

        var version = c.U32("version");
        if (version is 0x02000000 or 0x03000000)
        {
            throw c.Error("version", "this is a big-endian GGUF file; only little-endian files are supported", 4);
        }

        if (version == 1)
        {
            throw c.Error("version", "GGUF version 1 (32-bit counts) is obsolete and not supported; re-convert the model", 4);
        }

        if (version is not (2 or 3))
        {
            throw c.Error("version", $"unsupported GGUF version {version} (supported: 2, 3)", 4);
        }

        var tensorCount = c.Count("tensor_count", MinTensorInfoBytes);
        var kvCount = c.Count("metadata_kv_count", MinKvBytes);

        var metadata = new GgufMetadata();
        for (var i = 0; i < kvCount; i++)
        {
            var keyAt = c.Position;
            var key = c.String($"kv[{i}].key", strict: true);
            var type = ReadType(c, $"kv[\"{key}\"].type");
            var value = ReadValue(c, type, $"kv[\"{key}\"].value", depth: 0);
            if (!metadata.TryAdd(key, value))
            {
                throw c.Error($"kv[{i}].key", $"duplicate metadata key '{key}'", keyAt);
            }
        }

        var alignment = ReadAlignment(c, metadata);

        var tensors = new List<GgufTensorInfo>(tensorCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tensorCount; i++)
        {
            var infoAt = c.Position;
            var name = c.String($"tensor_infos[{i}].name", strict: true);
            if (!names.Add(name))
            {
                throw c.Error($"tensor_infos[{i}].name", $"duplicate tensor name '{name}'", infoAt);
            }

            var field = $"tensor_infos[{i}] ('{name}')";
            var nDimsAt = c.Position;
            var nDims = c.U32(field + ".n_dims");
            if (nDims > MaxDimensions)
            {
                throw c.Error(field + ".n_dims", $"{nDims} dimensions; ggml allows at most {MaxDimensions}", nDimsAt);
            }

            var shape = new long[nDims];
            long elements = 1;
            for (var d = 0; d < nDims; d++)
            {
                var dimAt = c.Position;
                var ne = c.U64($"{field}.ne[{d}]");
                if (ne > long.MaxValue)
                {
                    throw c.Error($"{field}.ne[{d}]", $"dimension {ne} is negative as ggml's int64", dimAt);
                }

                shape[d] = (long)ne;
                if (shape[d] != 0 && elements > long.MaxValue / shape[d])
                {
                    throw c.Error($"{field}.ne[{d}]", $"element count of shape [{string.Join(", ", shape.Take(d + 1))}] overflows int64", dimAt);
                }

                elements *= shape[d];
            }

            var typeAt = c.Position;
            var rawType = c.U32(field + ".type");
            var type = (GgmlType)rawType;
            if (!GgmlTypeInfo.IsKnown(type))
            {
                throw c.Error(field + ".type", $"unknown ggml type id {rawType}", typeAt);
            }

            var info = GgmlTypeInfo.Of(type);
            var rowLength = nDims == 0 ? 1 : shape[0];
            if (rowLength % info.BlockSize != 0)
            {
                throw c.Error($"{field}.ne[0]", $"row length {rowLength} is not a multiple of the {type} block size {info.BlockSize}", nDimsAt + 4);
            }

            // Bytes = elements / block · block bytes; checked because a huge shape can still overflow here.
            try
            {
                _ = checked(elements / info.BlockSize * info.BytesPerBlock);
            }
            catch (OverflowException)
            {
                throw c.Error(field, $"byte size of {elements} {type} elements overflows int64", infoAt);
            }

            var offsetAt = c.Position;
            var offset = c.U64(field + ".offset");
            if (offset % alignment != 0)
            {
                throw c.Error(field + ".offset", $"data offset {offset} is not a multiple of the alignment {alignment}", offsetAt);
            }

            tensors.Add(new GgufTensorInfo(name, shape, type, offset));
        }

        // The data section starts at the next alignment boundary after the tensor infos.
        var dataOffset = AlignUp(c.Position, alignment);
        var dataBytes = Math.Max(0, c.Length - dataOffset);
        CheckTensorExtents(c, tensors, dataOffset, dataBytes);
        return new Result(version, metadata, tensors, alignment, dataOffset);
    }

    private static void CheckTensorExtents(GgufCursor c, List<GgufTensorInfo> tensors, long dataOffset, long dataBytes)
    {
        foreach (var t in tensors)
        {
            if (t.Offset > (ulong)dataBytes || (ulong)t.ByteSize > (ulong)dataBytes - t.Offset)
            {
                throw c.Error($"tensor '{t.Name}'.offset",
                    $"data [{t.Offset}, {t.Offset + (ulong)t.ByteSize}) lies past the end of the data section ({dataBytes} bytes from file offset {dataOffset}); file truncated or offset corrupt",
                    dataOffset + (long)Math.Min(t.Offset, (ulong)dataBytes));
            }
        }

        // No two tensors may share bytes: sorted by offset, each must start at or after the previous end.
        var sorted = tensors.Where(t => t.ByteSize > 0).OrderBy(t => t.Offset).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            var prev = sorted[i - 1];
            var prevEnd = prev.Offset + (ulong)prev.ByteSize;
            if (sorted[i].Offset < prevEnd)
            {
                throw c.Error($"tensor '{sorted[i].Name}'.offset",
                    $"data at {sorted[i].Offset} overlaps tensor '{prev.Name}' [{prev.Offset}, {prevEnd})",
                    dataOffset + (long)sorted[i].Offset);
            }
        }
    }

    private static uint ReadAlignment(GgufCursor c, GgufMetadata metadata)
    {
        if (!metadata.TryGetValue("general.alignment", out var value))
        {
            return DefaultAlignment;
        }

        if (value.Type != GgufValueType.UInt32)
        {
            throw c.Error("kv[\"general.alignment\"]", $"must be a u32, found {value.Type}");
        }

        var a = value.AsUInt32();
        if (a == 0 || (a & (a - 1)) != 0)
        {
            throw c.Error("kv[\"general.alignment\"]", $"alignment {a} is not a power of two");
        }

        return a;
    }

    public static long AlignUp(long position, uint alignment) =>
        (position + alignment - 1) / alignment * alignment;

    private static GgufValueType ReadType(GgufCursor c, string field)
    {
        var at = c.Position;
        var raw = c.U32(field);
        if (raw > (uint)GgufValueType.Float64)
        {
            throw c.Error(field, $"unknown metadata value type {raw}", at);
        }

        return (GgufValueType)raw;
    }

    private static GgufValue ReadValue(GgufCursor c, GgufValueType type, string field, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.UInt8(c.U8(field));
            case GgufValueType.Int8: return GgufValue.Int8((sbyte)c.U8(field));
            case GgufValueType.UInt16: return GgufValue.UInt16(c.U16(field));
            case GgufValueType.Int16: return GgufValue.Int16((short)c.U16(field));
            case GgufValueType.UInt32: return GgufValue.UInt32(c.U32(field));
            case GgufValueType.Int32: return GgufValue.Int32((int)c.U32(field));
            case GgufValueType.Float32: return GgufValue.Float32(c.F32(field));
            case GgufValueType.UInt64: return GgufValue.UInt64(c.U64(field));
            case GgufValueType.Int64: return GgufValue.Int64((long)c.U64(field));
            case GgufValueType.Float64: return GgufValue.Float64(c.F64(field));
            case GgufValueType.Bool: return GgufValue.Bool(ReadBool(c, field));
            case GgufValueType.String: return GgufValue.String(c.String(field, strict: false));
            case GgufValueType.Array: return ReadArray(c, field, depth);
            default: throw c.Error(field, $"unknown metadata value type {(uint)type}");
        }
    }

    private static bool ReadBool(GgufCursor c, string field)
    {
        var at = c.Position;
        var b = c.U8(field);
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw c.Error(field, $"bool must be 0 or 1, found {b}", at),
        };
    }

    private static GgufValue ReadArray(GgufCursor c, string field, int depth)
    {
        if (depth >= MaxArrayNesting)
        {
            throw c.Error(field, $"arrays nested deeper than {MaxArrayNesting} levels");
        }

        var elementType = ReadType(c, field + ".element_type");
        var n = c.Count(field + ".count", MinBytes(elementType));
        switch (elementType)
        {
            case GgufValueType.UInt8: return GgufValue.Array(c.Array<byte>(n, field));
            case GgufValueType.Int8: return GgufValue.Array(c.Array<sbyte>(n, field));
            case GgufValueType.UInt16: return GgufValue.Array(c.Array<ushort>(n, field));
            case GgufValueType.Int16: return GgufValue.Array(c.Array<short>(n, field));
            case GgufValueType.UInt32: return GgufValue.Array(c.Array<uint>(n, field));
            case GgufValueType.Int32: return GgufValue.Array(c.Array<int>(n, field));
            case GgufValueType.Float32: return GgufValue.Array(c.Array<float>(n, field));
            case GgufValueType.UInt64: return GgufValue.Array(c.Array<ulong>(n, field));
            case GgufValueType.Int64: return GgufValue.Array(c.Array<long>(n, field));
            case GgufValueType.Float64: return GgufValue.Array(c.Array<double>(n, field));
            case GgufValueType.Bool:
                {
                    var bools = new bool[n];
                    for (var i = 0; i < n; i++)
                    {
                        bools[i] = ReadBool(c, field);
                    }

                    return GgufValue.Array(bools);
                }

            case GgufValueType.String:
                {
                    var strings = new string[n];
                    for (var i = 0; i < n; i++)
                    {
                        strings[i] = c.String(field, strict: false);
                    }

                    return GgufValue.Array(strings);
                }

            default:
                {
                    var arrays = new GgufValue[n];
                    for (var i = 0; i < n; i++)
                    {
                        arrays[i] = ReadArray(c, field, depth + 1);
                    }

                    return GgufValue.Array(arrays);
                }
        }
    }

    private static long MinBytes(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        _ => 4 + 8, // nested array: element type + count
    };
}
