using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Alpaca.Llm.Safetensors;

namespace Alpaca.Llm.WeightDiffs;

/// <summary>
/// Walks one tensor of a memory-mapped safetensors file in chunks of at most <c>chunkElements</c> elements, so no
/// tensor is ever copied whole onto the heap (the mapped pages are the OS's to evict).
/// </summary>
internal static unsafe class TensorChunks
{
    public static ReadOnlySpan<byte> Slice(SafetensorsFile file, SafetensorsTensorInfo info, long byteOffset, int byteCount) =>
        new(file.GetTensorPointer(info) + byteOffset, byteCount);

    public static IEnumerable<(long Start, int Count)> Ranges(long elements, int chunkElements)
    {
        for (long start = 0; start < elements; start += chunkElements)
        {
            yield return (start, (int)Math.Min(chunkElements, elements - start));
        }
    }

    public static string Hex(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetHashAndReset());

    /// <summary>The SHA-256 and float64 sum of a whole tensor, chunk by chunk.</summary>
    public static (string Sha256, double Sum) HashAndSum(SafetensorsFile file, SafetensorsTensorInfo info, int chunkElements)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        double sum = 0;
        var size = SafetensorsDTypes.ElementSize(info.DType);
        foreach (var (start, count) in Ranges(info.ElementCount, chunkElements))
        {
            var bytes = Slice(file, info, start * size, count * size);
            hash.AppendData(bytes);
            sum += ElementArithmetic.Sum(info.DType, bytes);
        }

        return (Hex(hash), sum);
    }

    /// <summary>The exact-recovery exceptions of one tensor: ascending element indices and the tuned element bits.</summary>
    public static (long[] Index, uint[] Bits) ReadExceptions(SafetensorsFile? file, string name, SafetensorsDType dtype)
    {
        if (file is null || !file.TryGetTensor(name + WeightDiff.IndexSuffix, out var idx) || !file.TryGetTensor(name + WeightDiff.ValueSuffix, out var val))
        {
            return ([], []);
        }

        if (idx.DType != SafetensorsDType.I64 || val.DType != dtype || idx.ElementCount != val.ElementCount)
        {
            throw new WeightDiffIntegrityException($"{file.Path}: the exceptions of '{name}' are malformed (index {idx}, value {val}).");
        }

        var index = MemoryMarshal.Cast<byte, long>(file.GetTensorBytes(idx)).ToArray();
        var valueBytes = file.GetTensorBytes(val);
        var bits = new uint[index.Length];
        for (var i = 0; i < bits.Length; i++)
        {
            bits[i] = ElementArithmetic.Bits(dtype, valueBytes, i);
        }

        return (index, bits);
    }
}
