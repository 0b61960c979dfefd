namespace Alpaca.Llm.SafeTensors;

/// <summary>Element types of the safetensors format (the <c>dtype</c> strings in its JSON header).</summary>
public enum SafeTensorsDType
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

public static class SafeTensorsDTypes
{
    public static int ElementSize(SafeTensorsDType t) => t switch
    {
        SafeTensorsDType.BOOL or SafeTensorsDType.U8 or SafeTensorsDType.I8 or SafeTensorsDType.F8_E4M3 or SafeTensorsDType.F8_E5M2 => 1,
        SafeTensorsDType.U16 or SafeTensorsDType.I16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.U32 or SafeTensorsDType.I32 or SafeTensorsDType.F32 => 4,
        _ => 8,
    };

    public static bool TryParse(string s, out SafeTensorsDType type) =>
        Enum.TryParse(s, ignoreCase: false, out type) && Enum.IsDefined(type) && !int.TryParse(s, out _);

    public static string Name(SafeTensorsDType t) => t.ToString();

    /// <summary>The <c>torch_dtype</c> string transformers writes into config.json.</summary>
    public static string TorchName(SafeTensorsDType t) => t switch
    {
        SafeTensorsDType.F32 => "float32",
        SafeTensorsDType.F16 => "float16",
        SafeTensorsDType.BF16 => "bfloat16",
        SafeTensorsDType.F64 => "float64",
        _ => t.ToString().ToLowerInvariant(),
    };
}
