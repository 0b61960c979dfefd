namespace Alpaca.Generator.Runs;

/// <summary>Lifecycle of a run (the gRPC contract's RunState).</summary>
public enum RunStatus
{
    Queued,

    /// <summary>Generating (also what a run interrupted by a crash still says: a restart resumes it).</summary>
    Running,

    /// <summary>The teacher is unreachable; retrying within the run's budget.</summary>
    Paused,

    Succeeded,

    Failed,

    Cancelled,
}
