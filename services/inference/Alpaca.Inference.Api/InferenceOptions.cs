namespace Alpaca.Inference.Api;

/// <summary>Configuration section <c>Alpaca:Inference</c> (environment: <c>Alpaca__Inference__Model</c> …).</summary>
public sealed class InferenceOptions
{
    /// <summary>A GGUF file to load at start (served as <see cref="ModelName"/>, the default model).</summary>
    public string? Model { get; set; }

    /// <summary>
    /// A draft GGUF for the start-up model (speculative decoding: same vocabulary, smaller; greedy requests
    /// decode up to <see cref="DraftTokens"/> + 1 tokens per step with identical output). None by default.
    /// </summary>
    public string? DraftModel { get; set; }

    /// <summary>Draft tokens proposed per step, 1..16, for models loaded with a draft.</summary>
    public int DraftTokens { get; set; } = 4;

    /// <summary>
    /// Threads of a draft model's forward passes: 1 (default) runs them on the decode loop alone — a draft is
    /// small, and its many short passes would otherwise each wait for workers to wake; 0 = share the target's.
    /// </summary>
    public int DraftThreads { get; set; } = 1;

    /// <summary>Name of the start-up model (default: its file name without extension).</summary>
    public string? ModelName { get; set; }

    /// <summary>Engine worker threads per model, the decode-loop thread included; 0 = one per core.</summary>
    public int Threads { get; set; }

    /// <summary>
    /// Engine backend of models loaded without one: "cpu" (the C# kernels over the GGUF bytes) or "torch"
    /// (TorchSharp on <see cref="Device"/>, weights dequantized to <see cref="DType"/> at load).
    /// </summary>
    public string Backend { get; set; } = "cpu";

    /// <summary>Torch backend device: "cpu", "cuda", "cuda:N" or "auto".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Torch backend dtype: "bf16", "f16", "f32" or "auto" (bf16 on CUDA, f32 on CPU).</summary>
    public string DType { get; set; } = "auto";

    /// <summary>
    /// Device memory a torch-backend model may take (its weights in DType plus its preallocated KV cache);
    /// 0 = no check. The host budget (<see cref="MemoryBudgetBytes"/>) applies to CPU-engine models.
    /// </summary>
    public long DeviceMemoryBudgetBytes { get; set; }

    /// <summary>KV cache slots per model: sequences decoded together in one batch.</summary>
    public int MaxSequences { get; set; } = 16;

    /// <summary>CPU engine KV cache element type: "f16" (default, as llama.cpp), "f32" or "q8_0" (llama.cpp's --cache-type-k/v).</summary>
    public string KvCacheType { get; set; } = "f16";

    /// <summary>Positions per KV block (a multiple of 16); 0 = no paging (a whole context reserved per slot).</summary>
    public int KvBlockTokens { get; set; } = 16;

    /// <summary>
    /// Positions in a model's KV block pool over all its sequences; 0 = MaxSequences whole contexts. Smaller
    /// bounds memory by the tokens actually in flight: sequences queue (or the newest is preempted and
    /// recomputed) when the pool runs out.
    /// </summary>
    public int KvCacheTokens { get; set; }

    /// <summary>Reuse the KV blocks of identical prompt prefixes across requests (exact; the Alpaca preamble is prefilled once).</summary>
    public bool PrefixCaching { get; set; } = true;

    /// <summary>Requests that may wait for a slot per model; beyond, RESOURCE_EXHAUSTED / HTTP 429.</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>Context length per sequence; 0 = the model's.</summary>
    public int ContextLength { get; set; }

    /// <summary>Prompt tokens processed per decode step (chunked prefill).</summary>
    public int PrefillChunkTokens { get; set; } = 64;

    /// <summary>
    /// Memory the loaded models may take (weights plus a full KV cache each); 0 = the container's cgroup
    /// limit, or no check outside a cgroup. A load past it is refused with FAILED_PRECONDITION.
    /// </summary>
    public long MemoryBudgetBytes { get; set; }

    /// <summary>Where the cgroup filesystem is mounted (read for the memory limit when no budget is configured).</summary>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>
    /// Show callers the server path of each model (ListModels, GetModelInfo, LoadModel); off, they see its file
    /// name only, so the service's folders stay the operator's business.
    /// </summary>
    public bool ShowModelPaths { get; set; }

    /// <summary>Load a model when a ModelPublished event arrives (a fine-tune just finished).</summary>
    public bool AutoLoadPublished { get; set; }

    /// <summary>
    /// With <see cref="AutoLoadPublished"/>: also make the newest published model the default (the one a request
    /// naming no model gets). Off by default in a deployment, since a published model is only as trustworthy as
    /// the data and the job behind it; on in the embedded platform (<c>alpaca up</c>, <c>alpaca recipe</c>).
    /// </summary>
    public bool AutoDefaultPublished { get; set; }

    /// <summary>How often each replica re-reads the desired models from the state store (with <see cref="AutoLoadPublished"/>).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);
}
