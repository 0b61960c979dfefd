using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Alpaca.Trainer.Api.Jobs;
using Alpaca.Trainer.Training;
using Google.Protobuf.WellKnownTypes;

namespace Alpaca.Trainer.Api.IntegrationEvents;

/// <summary>
/// The trainer's integration events: <see cref="TrainingProgress"/> (<c>alpaca.training-progress.v1</c>) and
/// <see cref="ModelPublished"/> (<c>alpaca.model-published.v1</c>). Event ids are stable per fact (job, state, step, attempt), so a
/// step re-run after a resume or a re-published model is recognisable to idempotent consumers.
/// </summary>
public sealed class JobEventPublisher(IEventBus bus, ILogger<JobEventPublisher> logger)
{
    /// <summary>Best effort: progress is also in the durable job record, so a transport hiccup must not fail training.</summary>
    public async Task ProgressAsync(Job job, CancellationToken cancellationToken = default)
    {
        var progress = new TrainingProgress
        {
            JobId = job.Id,
            Step = job.Progress?.Step ?? 0,
            TotalSteps = job.Progress?.TotalSteps ?? 0,
            Epoch = job.Progress?.Epoch ?? 0,
            Loss = job.Progress?.Loss ?? 0,
            LearningRate = job.Progress?.LearningRate ?? 0,
            TokensPerSecond = job.Progress?.TokensPerSecond ?? 0,
            State = JobStates.Name(job.State),
        };
        try
        {
            await bus.PublishAsync(progress, $"{job.Id}/{progress.State}/{progress.Step}/{job.Resumes}", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not publish training progress of job {JobId} at step {Step}", job.Id, progress.Step);
        }
    }

    /// <summary>Announces a trained model with its GGUF file. Not best effort: the job fails if this fails (a re-run republishes).</summary>
    public Task ModelPublishedAsync(Job job, TrainingResult result, CancellationToken cancellationToken = default)
    {
        var spec = job.Spec;
        var published = new ModelPublished
        {
            ModelName = string.IsNullOrWhiteSpace(spec.ModelName) ? job.Id : spec.ModelName,
            JobId = job.Id,
            GgufPath = result.GgufPath ?? "",
            CheckpointDir = result.ModelDir,
            Quantization = spec.ExportGguf switch
            {
                Contracts.V1.GgufExportType.F32 => "F32",
                Contracts.V1.GgufExportType.F16 => "F16",
                Contracts.V1.GgufExportType.Q80 => "Q8_0",
                Contracts.V1.GgufExportType.Q40 => "Q4_0",
                _ => "",
            },
            BaseModel = spec.BaseModelCase == JobSpec.BaseModelOneofCase.BaseModelPreset ? spec.BaseModelPreset : spec.BaseModelPath,
            Dataset = spec.DatasetCase == JobSpec.DatasetOneofCase.DatasetId ? spec.DatasetId : spec.DatasetPath,
            PublishedAt = Timestamp.FromDateTime(DateTime.UtcNow),
            GgufSha256 = result.GgufSha256 ?? "",
        };
        return bus.PublishAsync(published, $"{job.Id}/model-published", cancellationToken);
    }
}
