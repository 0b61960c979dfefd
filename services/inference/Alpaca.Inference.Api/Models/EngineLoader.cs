using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Model;
using Alpaca.Inference.Torch;

namespace Alpaca.Inference.Api.Models;

/// <summary>Which engine backend serves a model, and loading it: the CPU engine or the TorchSharp backend.</summary>
public static class EngineLoader
{
    public const string Cpu = "cpu";
    public const string Torch = "torch";

    /// <summary>A load's backend, device and dtype: the request's where given, else the service's configuration.</summary>
    public sealed record BackendSpec(string Backend, string Device, string DType, long DeviceMemoryBudgetBytes);

    public static bool IsKnownBackend(string backend) => Normalize(backend) is Cpu or Torch;

    public static BackendSpec Choose(LoadSpec spec, InferenceOptions options)
    {
        var backend = Normalize(string.IsNullOrWhiteSpace(spec.Backend) ? options.Backend : spec.Backend);
        if (backend is not (Cpu or Torch))
        {
            throw InferenceException.Invalid($"backend '{backend}' is not one of: cpu, torch.", "backend");
        }

        var device = string.IsNullOrWhiteSpace(spec.Device) ? options.Device : spec.Device.Trim();
        var dtype = string.IsNullOrWhiteSpace(spec.DType) ? options.DType : spec.DType.Trim();
        return new BackendSpec(backend, device, dtype, options.DeviceMemoryBudgetBytes);
    }

    public static Engine Load(string path, ModelOptions options, BackendSpec backend) => backend.Backend == Torch
        ? TorchModelLoader.Load(path, new TorchBackendOptions
        {
            Device = backend.Device,
            DType = backend.DType,
            MaxSequences = options.MaxSequences,
            ContextLength = options.ContextLength,
            Threads = options.Threads,
            MemoryBudgetBytes = backend.DeviceMemoryBudgetBytes,
        })
        : Engine.Load(path, options);

    private static string Normalize(string? backend) => (backend ?? Cpu).Trim().ToLowerInvariant();
}
