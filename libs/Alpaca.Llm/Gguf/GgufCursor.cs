using System.Buffers.Binary;
using System.Text;

namespace Alpaca.Llm.Gguf;

/// <summary>
/// Bounds-checked little-endian reads over the mapped file. Every read first checks that the bytes
/// exist, so a truncated or lying file produces a <see cref="GgufFormatException"/>, never a read past
/// the end of the mapping.
/// </summary>
internal sealed unsafe class GgufCursor(byte* start, long length, string? path)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public long Position { get; set; }

    public long Length => length;

    public long Remaining => length - Position;

    public string? Path => path;

    public GgufFormatException Error(string field, string message, long? offset = null) =>
        new(message, field, offset ?? Position, path);

    public void Need(long bytes, string field)
    {
        if (bytes < 0 || bytes > Remaining)
        {
            throw Error(field, $"needs {bytes} bytes but only {Remaining} remain (file is {length} bytes; truncated or corrupt)");
        }
    }

    private ReadOnlySpan<byte> Take(int bytes, string field)
    {
        Need(bytes, field);
        var span = new ReadOnlySpan<byte>(start + Position, bytes);
        Position += bytes;
        return span;
    }

    public byte U8(string field) => Take(1, field)[0];

    public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    public float F32(string field) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, field));

    public double F64(string field) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, field));

    /// <summary>Reads a count field and checks that <paramref name="minBytesEach"/>·count bytes can still follow.</summary>
    public int Count(string field, long minBytesEach, long max = int.MaxValue)
    {
        var at = Position;
        var n = U64(field);
        if (n > (ulong)max)
        {
            throw Error(field, $"count {n} is larger than this reader allows ({max})", at);
        }

        if (minBytesEach > 0 && n > (ulong)(Remaining / minBytesEach))
        {
            throw Error(field, $"count {n} needs at least {n * (ulong)minBytesEach} more bytes but only {Remaining} remain", at);
        }

        return (int)n;
    }

    /// <summary>A GGUF string: u64 byte length then UTF-8 bytes. Strict decoding rejects invalid UTF-8.</summary>
    public string String(string field, bool strict)
    {
        var at = Position;
        var n = U64(field + ".length");
        if (n > (ulong)Remaining || n > int.MaxValue)
        {
            throw Error(field + ".length", $"string length {n} exceeds the {Remaining} bytes left in the file", at);
        }

        var bytes = Take((int)n, field);
        if (!strict)
        {
            return Encoding.UTF8.GetString(bytes);
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error(field, "is not valid UTF-8", at + 8);
        }
    }

    /// <summary>Copies <paramref name="count"/> fixed-size little-endian elements into a new array (bounds checked first).</summary>
    public T[] Array<T>(int count, string field)
        where T : unmanaged
    {
        var bytes = (long)count * sizeof(T);
        Need(bytes, field);
        if (bytes > System.Array.MaxLength)
        {
            throw Error(field, $"array of {count} elements is larger than this reader allows");
        }

        var result = new T[count];
        new ReadOnlySpan<byte>(start + Position, (int)bytes).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.AsSpan()));
        Position += bytes;
        return result;
    }
}
