using Alpaca.Generator.Dedup;

namespace Alpaca.Generator.Runs;

/// <summary>
/// A run's durable state apart from its kept log, replaced atomically as one document so that the counters
/// and the pending round always change together.
/// </summary>
public sealed record RunCheckpoint
{
    public RunStatus Status { get; init; } = RunStatus.Queued;

    public string? Error { get; init; }

    public RunCounters Counters { get; init; } = new();

    /// <summary>The next round number to request (round numbers are never reused for submitted candidates).</summary>
    public long NextRound { get; init; }

    /// <summary>A round parsed and filtered but not yet fully applied (dedup + kept log + counters); replayed on restart.</summary>
    public PendingRound? Pending { get; init; }

    /// <summary>Set when the run succeeded: the dataset's id and the SHA-256 of alpaca_data.json.</summary>
    public string? DatasetId { get; init; }

    public string? DatasetSha256 { get; init; }

    /// <summary>True once the dataset-published event went out (a restart publishes it otherwise).</summary>
    public bool Published { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>What a round contributes, persisted before it is sent to dedup.</summary>
/// <param name="Round">Round number.</param>
/// <param name="Candidates">Items that passed the filters, in reply order, with stable ids.</param>
/// <param name="Delta">Counters of the round so far (tokens, parse rejections; dedup results are added on apply).</param>
public sealed record PendingRound(long Round, IReadOnlyList<CandidateInstruction> Candidates, RunCounters Delta);
