using System.Text;

namespace Alpaca.Llm.Tests.Gguf;

/// <summary>Assembles GGUF bytes field by field, including values no honest writer would produce.</summary>
internal sealed class RawGguf
{
    private readonly List<byte> _bytes = [];

    public static RawGguf Header(ulong tensors, ulong kvs, uint version = 3) =>
        new RawGguf().Bytes("GGUF"u8.ToArray()).U32(version).U64(tensors).U64(kvs);

    public long Length => _bytes.Count;

    public RawGguf Bytes(byte[] b)
    {
        _bytes.AddRange(b);
        return this;
    }

    public RawGguf U8(byte v) => Bytes([v]);

    public RawGguf U32(uint v) => Bytes(BitConverter.GetBytes(v));

    public RawGguf U64(ulong v) => Bytes(BitConverter.GetBytes(v));

    public RawGguf Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        return U64((ulong)b.Length).Bytes(b);
    }

    public RawGguf KvU32(string key, uint v) => Str(key).U32(4).U32(v);

    public RawGguf Tensor(string name, ulong[] ne, uint type, ulong offset)
    {
        Str(name).U32((uint)ne.Length);
        foreach (var d in ne)
        {
            U64(d);
        }

        return U32(type).U64(offset);
    }

    public RawGguf PadTo(int alignment)
    {
        while (_bytes.Count % alignment != 0)
        {
            _bytes.Add(0);
        }

        return this;
    }

    public RawGguf Zeros(int n) => Bytes(new byte[n]);

    public byte[] ToArray() => [.. _bytes];
}
