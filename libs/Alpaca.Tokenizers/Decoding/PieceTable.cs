using System.Text;

namespace Alpaca.Tokenizers.Decoding;

/// <summary>
/// The UTF-8 bytes each token stands for, precomputed once, plus the SentencePiece rule that the first
/// written piece loses one leading space (the dummy prefix the encoder added).
/// </summary>
internal sealed class PieceTable
{
    private readonly byte[][] _bytes;
    private readonly PieceKind[] _kinds;

    public PieceTable(byte[][] bytes, PieceKind[] kinds, bool stripLeadingSpace)
    {
        _bytes = bytes;
        _kinds = kinds;
        StripLeadingSpace = stripLeadingSpace;
    }

    public bool StripLeadingSpace { get; }

    public int Count => _bytes.Length;

    /// <summary>The bytes of <paramref name="id"/> as decoded text (empty when it is not shown).</summary>
    public ReadOnlySpan<byte> Bytes(int id, bool skipSpecial)
    {
        if ((uint)id >= (uint)_bytes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary of {_bytes.Length} tokens.");
        }

        return _kinds[id] switch
        {
            PieceKind.Text => _bytes[id],
            PieceKind.Special when !skipSpecial => _bytes[id],
            _ => [],
        };
    }

    /// <summary>
    /// Bytes to write for <paramref name="id"/> given whether anything was written before: the first
    /// written piece of a SentencePiece text drops one leading space.
    /// </summary>
    public ReadOnlySpan<byte> Next(int id, bool skipSpecial, ref bool wroteAny)
    {
        var bytes = Bytes(id, skipSpecial);
        if (bytes.IsEmpty)
        {
            return bytes;
        }

        if (!wroteAny && StripLeadingSpace && bytes[0] == (byte)' ')
        {
            bytes = bytes[1..];
        }

        wroteAny = true;
        return bytes;
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial)
    {
        var buffer = new ArrayBufferWriterLite();
        var wroteAny = false;
        foreach (var id in ids)
        {
            buffer.Write(Next(id, skipSpecial, ref wroteAny));
        }

        // Invalid sequences (e.g. a lone byte token) become U+FFFD, as in any UTF-8 decoder.
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A growable byte buffer (System.Buffers' writer without the interface ceremony).</summary>
    private sealed class ArrayBufferWriterLite
    {
        private byte[] _data = new byte[256];
        private int _length;

        public ReadOnlySpan<byte> WrittenSpan => _data.AsSpan(0, _length);

        public void Write(ReadOnlySpan<byte> bytes)
        {
            if (_length + bytes.Length > _data.Length)
            {
                Array.Resize(ref _data, Math.Max(_data.Length * 2, _length + bytes.Length));
            }

            bytes.CopyTo(_data.AsSpan(_length));
            _length += bytes.Length;
        }
    }
}
