using System.Globalization;
using Alpaca.Inference.Model;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;

namespace Alpaca.Inference.Api.Models;

/// <summary>
/// The memory a model will take once loaded, checked before the load: the engine reserves its KV cache
/// lazily (pages are committed on first write), so without this check a pod passes readiness with a model
/// that fits idle and is OOM-killed when the slots fill under load. The budget is
/// <c>Alpaca:Inference:MemoryBudgetBytes</c> when set, else the container's cgroup limit
/// (<c>memory.max</c>, v1 <c>memory.limit_in_bytes</c>), else there is none.
/// </summary>
public static class MemoryBudget
{
    // cgroup v1 reports "no limit" as a page-rounded long.MaxValue; anything this large is no limit.
    private const long Unlimited = 1L << 60;

    /// <summary>The budget in bytes, or null when neither a configured budget nor a cgroup limit applies.</summary>
    public static long? Resolve(long configuredBytes, string cgroupRoot = "/sys/fs/cgroup") =>
        configuredBytes > 0 ? configuredBytes : CgroupLimit(cgroupRoot);

    /// <summary>The memory limit of this process's cgroup (v2 <c>memory.max</c>, then v1 <c>memory/memory.limit_in_bytes</c>); null when unlimited or not in one.</summary>
    public static long? CgroupLimit(string cgroupRoot)
    {
        foreach (var file in new[] { Path.Combine(cgroupRoot, "memory.max"), Path.Combine(cgroupRoot, "memory", "memory.limit_in_bytes"), Path.Combine(cgroupRoot, "memory.limit_in_bytes") })
        {
            string text;
            try
            {
                text = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (text == "max")
            {
                return null;
            }

            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
            {
                return bytes >= Unlimited ? null : bytes;
            }
        }

        return null;
    }

    /// <summary>Weights (the GGUF's tensor data, which the engine maps or packs at about its size) and the default KV block pool at full occupancy.</summary>
    public static Footprint Estimate(string ggufPath, int contextLength, int slots) =>
        Estimate(ggufPath, new ModelOptions { ContextLength = contextLength, MaxSequences = slots });

    /// <summary>Weights and the KV block pool these options ask for, at full occupancy.</summary>
    public static Footprint Estimate(string ggufPath, ModelOptions options)
    {
        using var file = GgufFile.Open(ggufPath);
        var config = LlamaConfig.FromGguf(file);
        var context = options.ContextLength > 0 ? options.ContextLength : config.ContextLength;
        // As the engine allocates: the block pool, in the cache's element type.
        var positions = (long)KvLayout.Blocks(options, context) * KvLayout.BlockTokens(options, context);
        var kv = positions * KvCacheTypes.BytesPerToken(options.KvCacheType, config.NLayers, config.NKvHeads, config.HeadDim);
        return new Footprint(file.FileSize - file.DataOffset, kv, config.NLayers, config.NKvHeads, config.HeadDim, context, Math.Max(1, options.MaxSequences), positions, KvCacheTypes.Name(options.KvCacheType));
    }

    public sealed record Footprint(long WeightBytes, long KvCacheBytes, int Layers, int KvHeads, int HeadDim, int ContextLength, int Slots, long Positions, string KvCacheType)
    {
        public long TotalBytes => WeightBytes + KvCacheBytes;

        /// <summary>The numbers behind <see cref="KvCacheBytes"/>, for an error a reader can act on.</summary>
        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"weights {WeightBytes:N0} B + KV cache {KvCacheBytes:N0} B ({Positions:N0} positions (context {ContextLength} × {Slots} slots, or KvCacheTokens) × {Layers} layers × {KvHeads} KV heads × head dim {HeadDim} × 2 (K and V), {KvCacheType}) = {TotalBytes:N0} B");
    }
}
