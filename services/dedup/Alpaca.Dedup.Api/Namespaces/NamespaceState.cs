using Alpaca.Dedup.Pool;

namespace Alpaca.Dedup.Api.Namespaces;

/// <summary>The in-memory pool of one namespace, rebuilt from its decision log, with its single-writer lock.</summary>
public sealed class NamespaceState(NamespaceMeta meta, DedupPool pool)
{
    public NamespaceMeta Meta { get; } = meta;

    public DedupPool Pool { get; } = pool;

    /// <summary>Decisions by candidate id: a resubmitted id is answered from its first decision.</summary>
    public Dictionary<string, StoredDecision> Decisions { get; } = new(StringComparer.Ordinal);

    /// <summary>One writer at a time: decisions are serialised in a well-defined order.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    public long KeptCount { get; set; }

    public long RejectedCount { get; set; }
}
