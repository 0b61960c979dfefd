namespace Alpaca.Llm.Safetensors;

/// <summary>
/// One tensor of a safetensors file. <see cref="Shape"/> is row-major in PyTorch order (the last
/// dimension is contiguous: the reverse of ggml's ne). Offsets are relative to the data section.
/// </summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long DataStart, long DataEnd)
{
    public long ByteSize => DataEnd - DataStart;

    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}
