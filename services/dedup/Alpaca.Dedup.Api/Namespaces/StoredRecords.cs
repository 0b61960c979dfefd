namespace Alpaca.Dedup.Api.Namespaces;

/// <summary>A namespace's settings, written last at creation: its presence means the namespace exists.</summary>
public sealed record NamespaceMeta(string Name, double Threshold, int SeedCount, string SeedsSha256, DateTimeOffset CreatedAt);

/// <summary>
/// One decision, appended to the namespace's decision log in decision order. The log is the single
/// source of truth: the pool is the seeds plus the kept decisions in order, so one append records a
/// decision and its insertion atomically, and a crash never leaves them apart.
/// </summary>
public sealed record StoredDecision(
    string CandidateId,
    string Instruction,
    bool Kept,
    double MaxF,
    int MostSimilar,
    int PoolPosition,
    List<StoredSimilar>? MostSimilarInstructions,
    double? AvgSimilarityScore);

public sealed record StoredSimilar(int Position, double Score);
