using Alpaca.Inference.Kernels;
using Alpaca.Inference.Threading;

namespace Alpaca.Inference.Model;

/// <summary>Run-time settings of a <see cref="Transformer"/>.</summary>
public sealed record ModelOptions
{
    /// <summary>Threads including the caller; 0 = one per core.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Threads to share instead of starting <see cref="Threads"/> of its own: a draft model runs its forward
    /// passes on the decode loop between its target's, so one pool serves both and no idle pool's workers
    /// spin against the busy one's. The model does not dispose a shared pool (its owner outlives it).
    /// </summary>
    public WorkerPool? Workers { get; init; }

    /// <summary>Kernel implementation; default the fastest this CPU supports.</summary>
    public KernelPath Kernels { get; init; } = CpuKernels.Best;

    /// <summary>Tokens per internal forward chunk (a longer batch is processed in chunks of this size).</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>KV cache slots: sequences that can be alive at once (with paging a slot costs no cache memory of its own).</summary>
    public int MaxSequences { get; init; } = 1;

    /// <summary>How keys and values are stored (llama.cpp's --cache-type-k/v): f16 (default), f32 or q8_0.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>Positions per KV block (a multiple of 16); 0 = no paging: one block of the whole context per slot, as a contiguous cache.</summary>
    public int KvBlockTokens { get; init; } = 16;

    /// <summary>Positions in the KV block pool over all sequences; 0 = <see cref="MaxSequences"/> whole contexts (never preempts).</summary>
    public int KvCacheTokens { get; init; }

    /// <summary>Keep full blocks after a sequence ends and reuse them for a later prompt with the same prefix (exact).</summary>
    public bool PrefixCaching { get; init; } = true;

    /// <summary>Positions per sequence; 0 = the model's context length.</summary>
    public int ContextLength { get; init; }
}
