namespace Alpaca.Llm.Tensors;

/// <summary>
/// Block geometry of every ggml type: how many elements one block holds and how many bytes it takes
/// (ggml's <c>type_traits[].blck_size</c> / <c>type_size</c>). A row of n elements must be a whole
/// number of blocks.
/// </summary>
public readonly record struct GgmlTypeInfo(GgmlType Type, int BlockSize, int BytesPerBlock)
{
    private static readonly Dictionary<GgmlType, GgmlTypeInfo> Table = new()
    {
        [GgmlType.F32] = new(GgmlType.F32, 1, 4),
        [GgmlType.F16] = new(GgmlType.F16, 1, 2),
        [GgmlType.Q4_0] = new(GgmlType.Q4_0, 32, 18),
        [GgmlType.Q4_1] = new(GgmlType.Q4_1, 32, 20),
        [GgmlType.Q5_0] = new(GgmlType.Q5_0, 32, 22),
        [GgmlType.Q5_1] = new(GgmlType.Q5_1, 32, 24),
        [GgmlType.Q8_0] = new(GgmlType.Q8_0, 32, 34),
        [GgmlType.Q8_1] = new(GgmlType.Q8_1, 32, 36),
        [GgmlType.Q2_K] = new(GgmlType.Q2_K, 256, 84),
        [GgmlType.Q3_K] = new(GgmlType.Q3_K, 256, 110),
        [GgmlType.Q4_K] = new(GgmlType.Q4_K, 256, 144),
        [GgmlType.Q5_K] = new(GgmlType.Q5_K, 256, 176),
        [GgmlType.Q6_K] = new(GgmlType.Q6_K, 256, 210),
        [GgmlType.Q8_K] = new(GgmlType.Q8_K, 256, 292),
        [GgmlType.IQ2_XXS] = new(GgmlType.IQ2_XXS, 256, 66),
        [GgmlType.IQ2_XS] = new(GgmlType.IQ2_XS, 256, 74),
        [GgmlType.IQ3_XXS] = new(GgmlType.IQ3_XXS, 256, 98),
        [GgmlType.IQ1_S] = new(GgmlType.IQ1_S, 256, 50),
        [GgmlType.IQ4_NL] = new(GgmlType.IQ4_NL, 32, 18),
        [GgmlType.IQ3_S] = new(GgmlType.IQ3_S, 256, 110),
        [GgmlType.IQ2_S] = new(GgmlType.IQ2_S, 256, 82),
        [GgmlType.IQ4_XS] = new(GgmlType.IQ4_XS, 256, 136),
        [GgmlType.I8] = new(GgmlType.I8, 1, 1),
        [GgmlType.I16] = new(GgmlType.I16, 1, 2),
        [GgmlType.I32] = new(GgmlType.I32, 1, 4),
        [GgmlType.I64] = new(GgmlType.I64, 1, 8),
        [GgmlType.F64] = new(GgmlType.F64, 1, 8),
        [GgmlType.IQ1_M] = new(GgmlType.IQ1_M, 256, 56),
        [GgmlType.BF16] = new(GgmlType.BF16, 1, 2),
        [GgmlType.TQ1_0] = new(GgmlType.TQ1_0, 256, 54),
        [GgmlType.TQ2_0] = new(GgmlType.TQ2_0, 256, 66),
        [GgmlType.MXFP4] = new(GgmlType.MXFP4, 32, 17),
    };

    /// <summary>True for ids ggml defines (the reader rejects the others).</summary>
    public static bool IsKnown(GgmlType type) => Table.ContainsKey(type);

    public static GgmlTypeInfo Of(GgmlType type) =>
        Table.TryGetValue(type, out var info)
            ? info
            : throw new ArgumentOutOfRangeException(nameof(type), (uint)type, $"Unknown ggml type id {(uint)type}.");

    /// <summary>Bytes of one row of <paramref name="n"/> elements; throws when n is not a whole number of blocks.</summary>
    public static long RowBytes(GgmlType type, long n)
    {
        var info = Of(type);
        if (n < 0 || n % info.BlockSize != 0)
        {
            throw new ArgumentException($"A {type} row needs a multiple of {info.BlockSize} elements, got {n}.", nameof(n));
        }

        return checked(n / info.BlockSize * info.BytesPerBlock);
    }

    /// <summary>Bytes of a tensor of the given shape (ggml ne order: ne0 contiguous); overflow throws.</summary>
    public static long TensorBytes(GgmlType type, ReadOnlySpan<long> shape)
    {
        if (shape.Length == 0)
        {
            return RowBytes(type, 1);
        }

        var bytes = RowBytes(type, shape[0]);
        for (var i = 1; i < shape.Length; i++)
        {
            bytes = checked(bytes * shape[i]);
        }

        return bytes;
    }

    /// <summary>Average bits per weight (e.g. 4.5 for Q4_0).</summary>
    public double BitsPerWeight => BytesPerBlock * 8.0 / BlockSize;

    /// <summary>True for the types <see cref="Quantizer"/> can both encode and decode.</summary>
    public static bool CanQuantize(GgmlType type) =>
        type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0;

    /// <summary>True for the types <see cref="Quantizer.Dequantize"/> can decode.</summary>
    public static bool CanDequantize(GgmlType type) =>
        CanQuantize(type) || IsKQuant(type);

    /// <summary>The k-quants llama-quantize writes (Q2_K … Q6_K: 256-element super-blocks).</summary>
    public static bool IsKQuant(GgmlType type) =>
        type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;
}
