using System.Globalization;
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

    /// <summary>Weights (the GGUF's tensor data, which the engine maps or packs at about its size) and the KV cache at full occupancy.</summary>
    public static Footprint Estimate(string ggufPath, int contextLength, int slots)
    {
        using var file = GgufFile.Open(ggufPath);
        var config = LlamaConfig.FromGguf(file);
        var context = contextLength > 0 ? contextLength : config.ContextLength;
        // As KvCache allocates: keys and values, fp32 elements, positions rounded up to 16 per row.
        long positions = (context + 15) / 16 * 16;
        var kv = 2L * config.NLayers * Math.Max(1, slots) * config.NKvHeads * config.HeadDim * positions * sizeof(float);
        return new Footprint(file.FileSize - file.DataOffset, kv, config.NLayers, config.NKvHeads, config.HeadDim, context, Math.Max(1, slots));
    }

    public sealed record Footprint(long WeightBytes, long KvCacheBytes, int Layers, int KvHeads, int HeadDim, int ContextLength, int Slots)
    {
        public long TotalBytes => WeightBytes + KvCacheBytes;

        /// <summary>The numbers behind <see cref="KvCacheBytes"/>, for an error a reader can act on.</summary>
        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"weights {WeightBytes:N0} B + KV cache {KvCacheBytes:N0} B (context {ContextLength} × {Layers} layers × {KvHeads} KV heads × head dim {HeadDim} × 2 (K and V) × 4 B × {Slots} slots) = {TotalBytes:N0} B");
    }
}
