namespace Alpaca.Inference.Model;

/// <summary>
/// How the KV cache stores keys and values (llama.cpp's <c>--cache-type-k/-v</c>): fp16 by default, as
/// llama.cpp does; fp32 keeps the projections unrounded; q8_0 is one int8 per element with an fp16
/// scale per 32 elements of a head (per head when shorter), about half of fp16.
/// </summary>
public enum KvCacheType
{
    F16,
    F32,
    Q8_0,
}

/// <summary>Parsing and naming of <see cref="KvCacheType"/> as configuration and the CLI spell it.</summary>
public static class KvCacheTypes
{
    public static KvCacheType Parse(string? text) => (text ?? "f16").Trim().ToLowerInvariant() switch
    {
        "" or "f16" or "fp16" => KvCacheType.F16,
        "f32" or "fp32" => KvCacheType.F32,
        "q8_0" or "q8" => KvCacheType.Q8_0,
        var other => throw new ArgumentException($"KV cache type '{other}' is not one of: f16, f32, q8_0."),
    };

    public static string Name(KvCacheType type) => type switch
    {
        KvCacheType.F32 => "f32",
        KvCacheType.Q8_0 => "q8_0",
        _ => "f16",
    };

    /// <summary>Bytes of one position's keys and values over all layers (the unit the pool is sized in).</summary>
    public static long BytesPerToken(KvCacheType type, int layers, int kvHeads, int headDim) => 2L * layers * kvHeads * RowBytes(type, headDim);

    /// <summary>Bytes of one head's key (or value) row of one position.</summary>
    public static int RowBytes(KvCacheType type, int headDim) => type switch
    {
        KvCacheType.F32 => headDim * sizeof(float),
        KvCacheType.Q8_0 => headDim + (Q8Groups(headDim) * sizeof(ushort)),
        _ => headDim * sizeof(ushort),
    };

    /// <summary>Elements per q8_0 scale: 32, or the whole head when it is shorter.</summary>
    public static int Q8Group(int headDim) => Math.Min(32, headDim);

    public static int Q8Groups(int headDim) => headDim / Q8Group(headDim);
}
