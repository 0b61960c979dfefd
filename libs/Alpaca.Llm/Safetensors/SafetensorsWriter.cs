using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using Alpaca.Llm.IO;

namespace Alpaca.Llm.Safetensors;

/// <summary>
/// Writes one safetensors file: header JSON padded with spaces to a multiple of 8 bytes (so the data
/// section is 8-aligned, as the reference writer does), tensors back to back in insertion order.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(SafetensorsTensorInfo Info, Action<Stream> Write)> _tensors = [];
    private long _size;

    /// <summary>
    /// <c>__metadata__</c>; starts as <c>{"format": "pt"}</c> because transformers and PEFT refuse files without a
    /// known format tag (safetensors' own torch writer sets the same).
    /// </summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal) { ["format"] = "pt" };

    /// <summary>Bytes of tensor data added so far.</summary>
    public long DataBytes => _size;

    public int Count => _tensors.Count;

    public void Add(string name, SafetensorsDType dtype, long[] shape, ReadOnlyMemory<byte> data)
    {
        var bytes = ByteSize(dtype, shape);
        if (bytes != data.Length)
        {
            throw new ArgumentException($"Tensor '{name}' {dtype} [{string.Join(", ", shape)}] needs {bytes} bytes, got {data.Length}.", nameof(data));
        }

        Add(name, dtype, shape, s => s.Write(data.Span));
    }

    private static long ByteSize(SafetensorsDType dtype, long[] shape) =>
        checked(shape.Aggregate(1L, (a, d) => d >= 0 ? checked(a * d) : throw new ArgumentException("Negative dimension.", nameof(shape))) * SafetensorsDTypes.ElementSize(dtype));

    /// <summary>Adds a tensor whose bytes (exactly elements × dtype size) a callback writes later.</summary>
    public void Add(string name, SafetensorsDType dtype, long[] shape, Action<Stream> write)
    {
        if (name == "__metadata__" || _tensors.Any(t => t.Info.Name == name))
        {
            throw new ArgumentException($"Tensor name '{name}' is reserved or already added.", nameof(name));
        }

        var bytes = ByteSize(dtype, shape);
        var info = new SafetensorsTensorInfo(name, dtype, (long[])shape.Clone(), _size, _size + bytes);
        _size += bytes;
        _tensors.Add((info, write));
    }

    /// <summary>Writes beside the target, fsyncs, renames into place and fsyncs the folder (<see cref="DurableFile"/>), so neither a crash nor a power loss leaves a half-written file under the real name.</summary>
    public void WriteTo(string path) => DurableFile.Write(path, WriteTo);

    public void WriteTo(Stream stream)
    {
        var header = BuildHeader();
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        stream.Write(len);
        stream.Write(header);
        foreach (var (info, write) in _tensors)
        {
            var before = stream.CanSeek ? stream.Position : -1;
            write(stream);
            if (before >= 0 && stream.Position - before != info.ByteSize)
            {
                throw new InvalidOperationException($"Tensor '{info.Name}' wrote {stream.Position - before} bytes, expected {info.ByteSize}.");
            }
        }

        stream.Flush();
    }

    private byte[] BuildHeader()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (Metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in Metadata)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
            }

            foreach (var (info, _) in _tensors)
            {
                w.WriteStartObject(info.Name);
                w.WriteString("dtype", SafetensorsDTypes.Name(info.DType));
                w.WriteStartArray("shape");
                foreach (var d in info.Shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(info.DataStart);
                w.WriteNumberValue(info.DataEnd);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        var padded = (int)((ms.Length + 7) / 8 * 8);
        var header = new byte[padded];
        ms.GetBuffer().AsSpan(0, (int)ms.Length).CopyTo(header);
        header.AsSpan((int)ms.Length).Fill((byte)' ');
        return header;
    }
}
