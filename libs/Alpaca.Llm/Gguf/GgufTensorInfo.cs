using Alpaca.Llm.Tensors;

namespace Alpaca.Llm.Gguf;

/// <summary>
/// One tensor of a GGUF file. <see cref="Shape"/> is in ggml <c>ne</c> order: <c>Shape[0]</c> is the
/// contiguous dimension, so a matrix [K, M] is M rows of K elements (PyTorch's [M, K]).
/// <see cref="Offset"/> is relative to the start of the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Shape, GgmlType Type, ulong Offset)
{
    public long ElementCount { get; } = Product(Shape);

    public long ByteSize { get; } = GgmlTypeInfo.TensorBytes(Type, Shape);

    public int Dimensions => Shape.Length;

    /// <summary>Elements per row (ne0).</summary>
    public long RowLength => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>Number of rows (ne1·ne2·ne3).</summary>
    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    /// <summary>Bytes per row in this tensor's type.</summary>
    public long RowBytes => GgmlTypeInfo.RowBytes(Type, RowLength);

    private static long Product(long[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }

        return n;
    }

    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Shape)}] @{Offset}";
}
