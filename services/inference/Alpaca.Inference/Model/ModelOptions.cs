using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model;

/// <summary>Run-time settings of a <see cref="Transformer"/>.</summary>
public sealed record ModelOptions
{
    /// <summary>Threads including the caller; 0 = one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Kernel implementation; default the fastest this CPU supports.</summary>
    public KernelPath Kernels { get; init; } = CpuKernels.Best;

    /// <summary>Tokens per internal forward chunk (a longer batch is processed in chunks of this size).</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>KV cache slots: sequences that can be alive at once.</summary>
    public int MaxSequences { get; init; } = 1;

    /// <summary>Positions per sequence; 0 = the model's context length.</summary>
    public int ContextLength { get; init; }
}
