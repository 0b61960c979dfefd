using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Alpaca.Inference.Torch;

/// <summary>Run-time settings of a <see cref="TorchTransformer"/>: where it runs, in what dtype, how many KV slots.</summary>
public sealed record TorchBackendOptions
{
    /// <summary>"cpu", "cuda", "cuda:N" or "auto" (CUDA when visible).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Weight and activation dtype: "bf16", "f16", "f32", or "auto" (bf16 on CUDA, f32 on CPU).</summary>
    public string DType { get; init; } = "auto";

    /// <summary>KV cache slots: sequences that can be alive at once.</summary>
    public int MaxSequences { get; init; } = 1;

    /// <summary>Positions per sequence; 0 = the model's context length.</summary>
    public int ContextLength { get; init; }

    /// <summary>Tokens per forward chunk (bounds activation memory of a long prompt).</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>libtorch intra-op threads on CPU (0 = libtorch's default).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// With f32 weights, round queries, keys and values to fp16 where llama.cpp's default fp16 KV cache and
    /// its CPU attention (and so the CPU engine) round them: f32 serving then follows their numerics. The
    /// cache stays f32, so attention converts nothing. No effect in bf16/f16.
    /// </summary>
    public bool RoundKvToHalf { get; init; } = true;

    /// <summary>Bytes the weights plus the preallocated KV cache may take on the device (0 = no limit).</summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>The dtype for a device: "auto" is bf16 on CUDA and f32 on CPU (exact parity with GGUF F32 files).</summary>
    public static ScalarType ResolveDType(string dtype, Device device) => (dtype ?? "auto").Trim().ToLowerInvariant() switch
    {
        "" or "auto" => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "f16" or "fp16" or "float16" or "half" => ScalarType.Float16,
        "f32" or "fp32" or "float32" or "float" => ScalarType.Float32,
        _ => throw new ArgumentException($"Unknown dtype '{dtype}'; use bf16, f16, f32 or auto."),
    };

    /// <summary>Short name of a dtype as configuration spells it.</summary>
    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float16 => "F16",
        ScalarType.Float32 => "F32",
        _ => dtype.ToString().ToUpper(CultureInfo.InvariantCulture),
    };

    public static int Bytes(ScalarType dtype) => dtype == ScalarType.Float32 ? 4 : 2;
}
