using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Which implementation of the kernels runs. Every path computes the same function; tests run each one
/// the CPU supports against <see cref="Reference"/>.
/// </summary>
public enum KernelPath
{
    /// <summary>Plain scalar loops over the GGUF bytes (dequantize with the reference codecs, multiply, add): the ground truth.</summary>
    Reference,

    /// <summary>Cross-platform <c>Vector128</c> code over the packed layouts (runs on any CPU .NET supports, ARM included).</summary>
    Portable,

    /// <summary>AVX2 + FMA, 256-bit: integer dot products with <c>vpmaddubsw</c>/<c>vpmaddwd</c>.</summary>
    Avx2,

    /// <summary>AVX2 + FMA with AVX-VNNI <c>vpdpbusd</c> for the integer dot products, and AVX-512 for the float kernels.</summary>
    Avx512Vnni,

    /// <summary>ARM64 AdvSimd with the dot-product extension: <c>sdot</c> for the integer dot products (Raspberry Pi 5, Apple M1+, Graviton 2+).</summary>
    Neon,
}

/// <summary>What this CPU can run, probed once.</summary>
public static class CpuKernels
{
    /// <summary>The fastest path this CPU supports.</summary>
    public static KernelPath Best { get; } = Detect();

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Reference or KernelPath.Portable => true,
        KernelPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        KernelPath.Avx512Vnni => Avx2.IsSupported && Fma.IsSupported && AvxVnni.IsSupported && Avx512F.IsSupported && Avx512BW.IsSupported,
        KernelPath.Neon => AdvSimd.Arm64.IsSupported && Dp.IsSupported,
        _ => false,
    };

    /// <summary>Every path this CPU can run (Reference and Portable first).</summary>
    public static IReadOnlyList<KernelPath> Supported { get; } =
        Enum.GetValues<KernelPath>().Where(IsSupported).ToArray();

    /// <summary>Parses a path name (case-insensitive) or "auto".</summary>
    public static KernelPath Parse(string name)
    {
        if (name.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return Best;
        }

        if (!Enum.TryParse<KernelPath>(name, ignoreCase: true, out var path))
        {
            throw new ArgumentException($"Unknown kernel path '{name}': use auto, {string.Join(", ", Enum.GetNames<KernelPath>())}.");
        }

        if (!IsSupported(path))
        {
            throw new ArgumentException($"Kernel path {path} is not supported by this CPU (supported: {string.Join(", ", Supported)}).");
        }

        return path;
    }

    /// <summary>A one-line description of the instruction sets in use, for benchmark headers.</summary>
    public static string Describe() => AdvSimd.IsSupported
        ? $"ARM64 AdvSimd={AdvSimd.Arm64.IsSupported} DotProd={Dp.IsSupported} Rdm={Rdm.IsSupported} Vector128={Vector128.IsHardwareAccelerated} best={Best}"
        : $"AVX2={Avx2.IsSupported} FMA={Fma.IsSupported} AVX-VNNI={AvxVnni.IsSupported} AVX512F={Avx512F.IsSupported} " +
          $"AVX512BW={Avx512BW.IsSupported} Vector512={Vector512.IsHardwareAccelerated} best={Best}";

    private static KernelPath Detect() =>
        IsSupported(KernelPath.Avx512Vnni) ? KernelPath.Avx512Vnni
        : IsSupported(KernelPath.Avx2) ? KernelPath.Avx2
        : IsSupported(KernelPath.Neon) ? KernelPath.Neon
        : KernelPath.Portable;
}
