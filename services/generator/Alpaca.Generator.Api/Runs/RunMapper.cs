using Alpaca.Contracts.V1;
using Alpaca.Generator.Runs;
using Google.Protobuf.WellKnownTypes;
using CoreProgress = Alpaca.Generator.Runs.RunProgress;
using ProtoProgress = Alpaca.Contracts.V1.RunProgress;

namespace Alpaca.Generator.Api.Runs;

/// <summary>The core's snapshots and stored checkpoints as the contract's <see cref="Run"/>.</summary>
public static class RunMapper
{
    public static RunState State(RunStatus status) => status switch
    {
        RunStatus.Queued => RunState.Queued,
        RunStatus.Running => RunState.Running,
        RunStatus.Paused => RunState.Paused,
        RunStatus.Succeeded => RunState.Succeeded,
        RunStatus.Failed => RunState.Failed,
        RunStatus.Cancelled => RunState.Cancelled,
        _ => RunState.Unspecified,
    };

    public static bool IsTerminal(RunState state) => state is RunState.Succeeded or RunState.Failed or RunState.Cancelled;

    /// <summary>A live snapshot of a running <see cref="GenerationRun"/>.</summary>
    public static Run FromProgress(CoreProgress p, RunSpec request, DateTimeOffset createdAt, DateTimeOffset now)
    {
        var progress = new ProtoProgress
        {
            Rounds = p.Rounds,
            Generated = p.Generated,
            Kept = p.Kept,
            PromptTokens = p.PromptTokens,
            CompletionTokens = p.CompletionTokens,
            KeptPerMinute = p.KeptPerMinute,
            EstimatedCost = p.EstimatedCost,
            TeacherRetries = p.TeacherRetries,
        };
        progress.RejectedByReason.Add(p.RejectedByReason.ToDictionary());
        return new Run
        {
            Id = p.RunId,
            Spec = request,
            State = State(p.Status),
            Progress = progress,
            Error = p.Error ?? "",
            CreatedAt = Timestamp.FromDateTimeOffset(createdAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(now),
            RegenPath = p.RegenPath ?? "",
            DatasetPath = p.DatasetPath ?? "",
            DatasetId = p.Status == RunStatus.Succeeded ? p.DatasetId ?? "" : "",
            DedupNamespace = $"gen-{p.RunId}",
        };
    }

    /// <summary>A run that is not running in this process, from its stored checkpoint.</summary>
    public static Run FromCheckpoint(string runId, RunSpec request, RunCheckpoint checkpoint, string outputDir)
    {
        var c = checkpoint.Counters;
        var progress = new ProtoProgress
        {
            Rounds = c.Rounds,
            Generated = c.Generated,
            Kept = c.Kept,
            PromptTokens = c.PromptTokens,
            CompletionTokens = c.CompletionTokens,
            EstimatedCost = (c.PromptTokens * (request.Teacher?.PromptPricePer1K ?? 0) + c.CompletionTokens * (request.Teacher?.CompletionPricePer1K ?? 0)) / 1000.0,
            TeacherRetries = c.TeacherRetries,
        };
        progress.RejectedByReason.Add(c.RejectedByReason);
        return new Run
        {
            Id = runId,
            Spec = request,
            State = State(checkpoint.Status),
            Progress = progress,
            Error = checkpoint.Error ?? "",
            CreatedAt = Timestamp.FromDateTimeOffset(checkpoint.CreatedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(checkpoint.UpdatedAt),
            RegenPath = Path.Combine(outputDir, Export.DatasetFiles.RegenFileName),
            DatasetPath = Path.Combine(outputDir, Export.DatasetFiles.DatasetFileName),
            DatasetId = checkpoint.Status == RunStatus.Succeeded ? checkpoint.DatasetId ?? "" : "",
            DedupNamespace = $"gen-{runId}",
        };
    }
}
