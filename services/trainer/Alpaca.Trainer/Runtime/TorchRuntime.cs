using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Runtime;

/// <summary>
/// Process-wide TorchSharp setup: OpenMP wait policy and thread count, run-time device choice, and a
/// clear error when the native library cannot load.
/// </summary>
public static partial class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool s_initialized;

    /// <summary>
    /// Call before the first tensor. Sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native environment
    /// unless the caller chose a policy (libgomp reads it when libtorch loads; spinning OpenMP threads
    /// collapse throughput on a shared 2-core machine, see torchsharp.md §2.5), then the thread count
    /// (0 = libtorch's default).
    /// </summary>
    public static void Initialize(int threads = 0)
    {
        lock (Gate)
        {
            if (!s_initialized && OperatingSystem.IsLinux())
            {
                _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
            }

            try
            {
                if (threads > 0)
                {
                    torch.set_num_threads(threads);
                }
                else
                {
                    _ = torch.get_num_threads();
                }
            }
            catch (TypeInitializationException e)
            {
                throw new InvalidOperationException(
                    "TorchSharp's native library failed to load. On Debian 12 (libstdc++ without GLIBCXX_3.4.32) the build must " +
                    "patch libLibTorchSharp.so: import build/torchsharp/TorchSharp.targets in the project that runs (docs/trainer.md). " +
                    "Cause: " + (e.InnerException?.Message ?? e.Message), e);
            }

            s_initialized = true;
        }
    }

    /// <summary>
    /// "auto" (CUDA when a device is visible, else CPU), "cpu", "cuda" or "cuda:N". Asking for CUDA on a
    /// CPU-only build or machine fails with the reason.
    /// </summary>
    public static Device SelectDevice(string request)
    {
        var r = (request ?? "auto").Trim().ToLowerInvariant();
        if (r is "" or "auto")
        {
            return cuda.is_available() ? CUDA : CPU;
        }

        if (r == "cpu")
        {
            return CPU;
        }

        if (r.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
            {
                throw new InvalidOperationException(
                    $"Device '{request}' requested but no CUDA device is available" +
                    (IsCudaBuild ? "." : " (this build uses TorchSharp-cpu; rebuild with -p:TorchSharpBackend=cuda)."));
            }

            return torch.device(r);
        }

        throw new ArgumentException($"Unknown device '{request}'; use auto, cpu, cuda or cuda:N.");
    }

    /// <summary>Whether this binary was built against TorchSharp-cuda-linux.</summary>
    public static bool IsCudaBuild =>
#if TORCHSHARP_CUDA
        true;
#else
        false;
#endif

    /// <summary>
    /// Whether bf16 matmuls run natively: CUDA devices of compute capability ≥ 8 (assumed for any CUDA
    /// device here), or CPUs with AVX-512 BF16 / AMX (oneDNN then runs bf16 GEMM 2–4× faster than fp32).
    /// </summary>
    public static bool SupportsBFloat16(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            return true;
        }

        try
        {
            var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? string.Empty;
            return flags.Contains(" avx512_bf16", StringComparison.Ordinal) || flags.Contains(" amx_bf16", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
