using Alpaca.Contracts.V1;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>Which job states are final and which the runner picks up.</summary>
public static class JobStates
{
    public static bool IsTerminal(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>RUNNING or EXPORTING with no runner: the process stopped mid-job; it resumes from its last checkpoint.</summary>
    public static bool WasInterrupted(JobState state) => state is JobState.Running or JobState.Exporting;
}
