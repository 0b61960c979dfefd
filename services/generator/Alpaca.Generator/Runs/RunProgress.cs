namespace Alpaca.Generator.Runs;

/// <summary>An immutable snapshot of a run for watchers (the CLI's live display, the WatchRun stream).</summary>
public sealed record RunProgress
{
    public required string RunId { get; init; }

    public RunStatus Status { get; init; }

    public string? Error { get; init; }

    public long Target { get; init; }

    public long Kept { get; init; }

    public long Rounds { get; init; }

    public long Generated { get; init; }

    public IReadOnlyDictionary<string, long> RejectedByReason { get; init; } = new Dictionary<string, long>();

    public IReadOnlyDictionary<string, long> CleanedByReason { get; init; } = new Dictionary<string, long>();

    public long PromptTokens { get; init; }

    public long CompletionTokens { get; init; }

    public double EstimatedCost { get; init; }

    public long TeacherRetries { get; init; }

    public long ContextShrinks { get; init; }

    public long GarbageReplies { get; init; }

    public long FailedRounds { get; init; }

    public long Surplus { get; init; }

    public int RoundsInFlight { get; init; }

    /// <summary>Kept instructions per minute in this session.</summary>
    public double KeptPerMinute { get; init; }

    /// <summary>Estimated time to the target at the current rate (null until there is a rate).</summary>
    public TimeSpan? Eta { get; init; }

    public string? RegenPath { get; init; }

    public string? DatasetPath { get; init; }

    public string? DatasetId { get; init; }

    public long RejectedTotal => RejectedByReason.Values.Sum();
}
