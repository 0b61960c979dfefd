using System.Text;
using Alpaca.Llm.IO;
using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Gguf;

/// <summary>
/// Writes GGUF v3 (or v2 on request): metadata of every value type (nested arrays included), tensor
/// infos with offsets laid out back to back in insertion order, each tensor padded to the alignment —
/// the layout llama.cpp's loader expects. Tensor bytes are streamed, so models larger than memory work.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GgufWriter(uint alignment = GgufParser.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentException($"Alignment {alignment} is not a power of two.", nameof(alignment));
        }

        Alignment = alignment;
    }

    public GgufMetadata Metadata { get; } = new();

    public uint Alignment { get; }

    /// <summary>GGUF version to write: 3 (default) or 2 (same layout, for old readers).</summary>
    public uint Version { get; init; } = 3;

    public int TensorCount => _tensors.Count;

    /// <summary>Adds a tensor whose bytes are already encoded in <paramref name="type"/>.</summary>
    public void AddTensor(string name, long[] shape, GgmlType type, ReadOnlyMemory<byte> data)
    {
        var bytes = GgmlTypeInfo.TensorBytes(type, shape);
        if (bytes != data.Length)
        {
            throw new ArgumentException($"Tensor '{name}' {type} [{string.Join(", ", shape)}] needs {bytes} bytes, got {data.Length}.", nameof(data));
        }

        AddTensor(name, shape, type, stream => stream.Write(data.Span));
    }

    /// <summary>Adds a float tensor, encoding it row by row into <paramref name="type"/> with the reference quantizer.</summary>
    public void AddTensor(string name, long[] shape, GgmlType type, float[] values)
    {
        var count = shape.Aggregate(1L, (a, d) => checked(a * d));
        if (count != values.Length)
        {
            throw new ArgumentException($"Tensor '{name}' of shape [{string.Join(", ", shape)}] has {count} elements, got {values.Length}.", nameof(values));
        }

        AddTensor(name, shape, type, stream => WriteQuantized(stream, type, values, shape.Length == 0 ? 1 : (int)shape[0]));
    }

    /// <summary>Adds a tensor whose bytes a callback writes later (it must write exactly the tensor's byte size).</summary>
    public void AddTensor(string name, long[] shape, GgmlType type, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (shape.Length > GgufParser.MaxDimensions)
        {
            throw new ArgumentException($"Tensor '{name}' has {shape.Length} dimensions; ggml allows {GgufParser.MaxDimensions}.", nameof(shape));
        }

        if (shape.Any(d => d < 0))
        {
            throw new ArgumentException($"Tensor '{name}' has a negative dimension.", nameof(shape));
        }

        if (!_names.Add(name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        var info = new GgufTensorInfo(name, (long[])shape.Clone(), type, 0);
        _tensors.Add(new PendingTensor(info, writeData));
    }

    /// <summary>Writes beside the target, fsyncs, renames into place and fsyncs the folder (<see cref="DurableFile"/>), so neither a crash nor a power loss leaves a half-written file under the real name.</summary>
    public void WriteTo(string path) => DurableFile.Write(path, WriteTo);

    public void WriteTo(Stream stream)
    {
        var metadata = PrepareMetadata();
        var counting = new CountingStream(stream);
        using var w = new BinaryWriter(counting, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufParser.Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }

        ulong offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Info.Name);
            w.Write((uint)t.Info.Shape.Length);
            foreach (var d in t.Info.Shape)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)t.Info.Type);
            w.Write(offset);
            offset += (ulong)GgufParser.AlignUp(t.Info.ByteSize, Alignment);
        }

        w.Flush();
        Pad(counting);
        foreach (var t in _tensors)
        {
            var start = counting.Position;
            t.WriteData(counting);
            var written = counting.Position - start;
            if (written != t.Info.ByteSize)
            {
                throw new InvalidOperationException($"Tensor '{t.Info.Name}' wrote {written} bytes, expected {t.Info.ByteSize}.");
            }

            Pad(counting);
        }

        counting.Flush();
    }

    private GgufMetadata PrepareMetadata()
    {
        if (Metadata.TryGetValue("general.alignment", out var a) && (a.Type != GgufValueType.UInt32 || a.AsUInt32() != Alignment))
        {
            throw new InvalidOperationException($"Metadata general.alignment ({a}) disagrees with the writer's alignment {Alignment}.");
        }

        if (Alignment == GgufParser.DefaultAlignment || Metadata.ContainsKey("general.alignment"))
        {
            return Metadata;
        }

        var copy = new GgufMetadata();
        foreach (var (k, v) in Metadata)
        {
            copy.Set(k, v);
        }

        copy.Set("general.alignment", GgufValue.UInt32(Alignment));
        return copy;
    }

    private void Pad(CountingStream s)
    {
        var padding = GgufParser.AlignUp(s.Position, Alignment) - s.Position;
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        while (padding > 0)
        {
            var n = (int)Math.Min(padding, zeros.Length);
            s.Write(zeros[..n]);
            padding -= n;
        }
    }

    private static void WriteQuantized(Stream stream, GgmlType type, float[] values, int rowLength)
    {
        if (rowLength == 0 || values.Length == 0)
        {
            return;
        }

        var row = new byte[GgmlTypeInfo.RowBytes(type, rowLength)];
        for (var start = 0; start < values.Length; start += rowLength)
        {
            Quantizer.Quantize(type, values.AsSpan(start, rowLength), row);
            stream.Write(row);
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Type)
        {
            case GgufValueType.UInt8: w.Write(v.AsUInt8()); break;
            case GgufValueType.Int8: w.Write(v.AsInt8()); break;
            case GgufValueType.UInt16: w.Write(v.AsUInt16()); break;
            case GgufValueType.Int16: w.Write(v.AsInt16()); break;
            case GgufValueType.UInt32: w.Write(v.AsUInt32()); break;
            case GgufValueType.Int32: w.Write(v.AsInt32()); break;
            case GgufValueType.Float32: w.Write(v.AsFloat32()); break;
            case GgufValueType.Bool: w.Write((byte)(v.AsBool() ? 1 : 0)); break;
            case GgufValueType.String: WriteString(w, v.AsString()); break;
            case GgufValueType.UInt64: w.Write(v.AsUInt64()); break;
            case GgufValueType.Int64: w.Write(v.AsInt64()); break;
            case GgufValueType.Float64: w.Write(v.AsFloat64()); break;
            case GgufValueType.Array: WriteArray(w, v); break;
            default: throw new InvalidOperationException($"Unknown GGUF value type {v.Type}.");
        }
    }

    private static void WriteArray(BinaryWriter w, GgufValue v)
    {
        w.Write((uint)v.ElementType!.Value);
        w.Write((ulong)v.ArrayLength);
        switch (v.RawValue)
        {
            case byte[] a: w.Write(a); break;
            case sbyte[] a: foreach (var x in a) { w.Write(x); } break;
            case ushort[] a: foreach (var x in a) { w.Write(x); } break;
            case short[] a: foreach (var x in a) { w.Write(x); } break;
            case uint[] a: foreach (var x in a) { w.Write(x); } break;
            case int[] a: foreach (var x in a) { w.Write(x); } break;
            case float[] a: foreach (var x in a) { w.Write(x); } break;
            case bool[] a: foreach (var x in a) { w.Write((byte)(x ? 1 : 0)); } break;
            case string[] a: foreach (var x in a) { WriteString(w, x); } break;
            case ulong[] a: foreach (var x in a) { w.Write(x); } break;
            case long[] a: foreach (var x in a) { w.Write(x); } break;
            case double[] a: foreach (var x in a) { w.Write(x); } break;
            case GgufValue[] a:
                foreach (var x in a)
                {
                    WriteArray(w, x);
                }

                break;
            default: throw new InvalidOperationException($"Unsupported GGUF array payload {v.RawValue.GetType().Name}.");
        }
    }

    private sealed record PendingTensor(GgufTensorInfo Info, Action<Stream> WriteData);

    /// <summary>Tracks the write position so padding works on non-seekable streams too.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _position;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _position;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            _position += buffer.Length;
        }

        public override void WriteByte(byte value)
        {
            inner.WriteByte(value);
            _position++;
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
