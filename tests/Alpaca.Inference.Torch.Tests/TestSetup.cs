using System.Runtime.CompilerServices;
using Alpaca.Trainer.Runtime;

// One libtorch per process on a shared 2-core machine: tests run one at a time on at most 2 torch
// threads, with a passive OpenMP wait policy (TorchRuntime sets it before libtorch loads).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Alpaca.Inference.Torch.Tests;

internal static class TestSetup
{
    /// <summary>
    /// The device the torch backend is tested on: ALPACA_TORCH_TEST_DEVICE (scripts/gpu-check.sh sets
    /// "cuda"), default "cpu". Parity tests run in f32 on either.
    /// </summary>
    public static string Device => Environment.GetEnvironmentVariable("ALPACA_TORCH_TEST_DEVICE") is { Length: > 0 } d ? d : "cpu";

    /// <summary>How the service labels <see cref="Device"/> (ListModels, metrics): "cpu" or "cuda:N".</summary>
    public static string DeviceLabel => Device == "cpu" ? "cpu" : Device.Contains(':', StringComparison.Ordinal) ? Device : "cuda:0";

    /// <summary>The real inference host (<see cref="InferenceServer"/>) with the torch backend as its default, in f32 on <see cref="Device"/>.</summary>
    public static Task<InferenceServer> StartTorchServerAsync(string model) =>
        InferenceServer.StartAsync(model, extra: new Dictionary<string, string?>
        {
            ["Alpaca:Inference:Backend"] = "torch",
            ["Alpaca:Inference:Device"] = Device,
            ["Alpaca:Inference:DType"] = "f32",
        });

    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(threads: 2);
}
