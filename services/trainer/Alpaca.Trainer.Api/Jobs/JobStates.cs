using Alpaca.Contracts.V1;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>Which job states are final, which the runner picks up, and their contract names.</summary>
public static class JobStates
{
    public static bool IsTerminal(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>RUNNING or EXPORTING with no runner: the process stopped mid-job; it resumes from its last checkpoint.</summary>
    public static bool WasInterrupted(JobState state) => state is JobState.Running or JobState.Exporting;

    /// <summary>The proto enum value name (e.g. JOB_STATE_RUNNING), as the event contract documents.</summary>
    public static string Name(JobState state) => state switch
    {
        JobState.Queued => "JOB_STATE_QUEUED",
        JobState.Running => "JOB_STATE_RUNNING",
        JobState.Exporting => "JOB_STATE_EXPORTING",
        JobState.Succeeded => "JOB_STATE_SUCCEEDED",
        JobState.Failed => "JOB_STATE_FAILED",
        JobState.Cancelled => "JOB_STATE_CANCELLED",
        _ => "JOB_STATE_UNSPECIFIED",
    };
}
