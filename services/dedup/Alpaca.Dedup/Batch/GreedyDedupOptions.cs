using Alpaca.Dedup.Pool;

namespace Alpaca.Dedup.Batch;

/// <summary>Options of <see cref="GreedyDedup.Run"/>.</summary>
/// <param name="Threshold">Reject when max F is above this (Alpaca: 0.7).</param>
/// <param name="AlpacaExtras">Also compute, for kept candidates, the top 10 and the average F over the whole pool (scores every pair).</param>
/// <param name="Threads">Worker threads; default: every core.</param>
/// <param name="BlockSize">Candidates searched in parallel against the pool as it was before their block.</param>
public sealed record GreedyDedupOptions(
    double Threshold = DedupPool.DefaultThreshold,
    bool AlpacaExtras = false,
    int? Threads = null,
    int BlockSize = 64);

/// <summary>The outcome of a batch: one decision per candidate in order, the final pool, counters and timings.</summary>
public sealed record GreedyDedupResult(
    IReadOnlyList<DedupDecision> Decisions,
    IReadOnlyList<string> Pool,
    DedupStats Stats,
    TimeSpan Tokenize,
    TimeSpan Decide,
    int Threads);
