namespace Alpaca.Llm.Safetensors;

/// <summary>Element types of the safetensors format (the <c>dtype</c> strings in its JSON header).</summary>
public enum SafetensorsDType
{
    BOOL,
    U8,
    I8,
    U16,
    I16,
    F16,
    BF16,
    U32,
    I32,
    F32,
    U64,
    I64,
    F64,
    F8_E4M3,
    F8_E5M2,
}

public static class SafetensorsDTypes
{
    public static int ElementSize(SafetensorsDType t) => t switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 => 1,
        SafetensorsDType.U16 or SafetensorsDType.I16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.U32 or SafetensorsDType.I32 or SafetensorsDType.F32 => 4,
        _ => 8,
    };

    public static bool TryParse(string s, out SafetensorsDType type) =>
        Enum.TryParse(s, ignoreCase: false, out type) && Enum.IsDefined(type) && !int.TryParse(s, out _);

    public static string Name(SafetensorsDType t) => t.ToString();

    /// <summary>The <c>torch_dtype</c> string transformers writes into config.json.</summary>
    public static string TorchName(SafetensorsDType t) => t switch
    {
        SafetensorsDType.F32 => "float32",
        SafetensorsDType.F16 => "float16",
        SafetensorsDType.BF16 => "bfloat16",
        SafetensorsDType.F64 => "float64",
        _ => t.ToString().ToLowerInvariant(),
    };
}
