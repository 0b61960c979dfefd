using System.Buffers.Binary;
using System.IO.Hashing;

namespace Alpaca.State;

/// <summary>
/// Reads the framing of a local-folder list file, <c>[length:int32][crc32:uint32][bytes]</c>, and finds
/// its records. A frame that fails its length or checksum test in the middle (a flipped bit, a bad
/// sector) is skipped: the scan resynchronises on the next valid frame, and the bytes in between are
/// reported as a corrupt span. A bad frame with no valid frame after it is a torn tail (a crash
/// mid-append) and is reported as the length to cut the file to.
/// </summary>
internal static class ListFileScanner
{
    public const int HeaderSize = 8;

    public sealed record Result(List<long> Offsets, List<(long Start, long End)> CorruptSpans, long ValidLength);

    public static Result Scan(Stream stream)
    {
        var offsets = new List<long>();
        var corrupt = new List<(long, long)>();
        long position = 0;
        var length = stream.Length;
        while (position < length)
        {
            if (FrameAt(stream, position, length, allowEmpty: true) is { } size)
            {
                offsets.Add(position);
                position += size;
                continue;
            }

            var next = NextFrame(stream, position + 1, length);
            if (next < 0)
            {
                break; // nothing valid after it: a torn tail
            }

            corrupt.Add((position, next));
            position = next;
        }

        return new Result(offsets, corrupt, Math.Min(position, length));
    }

    /// <summary>The size of a valid frame at <paramref name="position"/>, or null.</summary>
    private static long? FrameAt(Stream stream, long position, long fileLength, bool allowEmpty)
    {
        if (position + HeaderSize > fileLength)
        {
            return null;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        stream.Position = position;
        stream.ReadExactly(header);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 0 || (length == 0 && !allowEmpty) || position + HeaderSize + length > fileLength)
        {
            return null;
        }

        var item = new byte[length];
        stream.ReadExactly(item);
        return Crc32.HashToUInt32(item) == BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) ? HeaderSize + length : null;
    }

    /// <summary>
    /// The next offset holding a valid frame. Empty frames are not accepted here: eight zero bytes are a
    /// valid empty frame (CRC32 of nothing is 0), and zeroed sectors would otherwise resync into a run of
    /// phantom empty records.
    /// </summary>
    private static long NextFrame(Stream stream, long from, long fileLength)
    {
        for (var candidate = from; candidate + HeaderSize <= fileLength; candidate++)
        {
            if (FrameAt(stream, candidate, fileLength, allowEmpty: false) is not null)
            {
                return candidate;
            }
        }

        return -1;
    }
}
