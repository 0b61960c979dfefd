using Alpaca.Contracts.V1;
using Alpaca.Trainer.Api.Configuration;
using Alpaca.Trainer.Api.IntegrationEvents;
using Alpaca.Trainer.Training;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// The device's job slot: runs one job at a time, oldest first, and on start resumes the jobs a killed
/// process left RUNNING or EXPORTING. Resuming needs nothing but the job's output folder: the trainer core
/// restores weights, AdamW moments, schedule, data position and RNG from the newest checkpoint there, so the
/// loss curve continues as if the process had never stopped. Stopping the host interrupts the job the same
/// way (only a clean-stop mark, so the restart is not counted as a crash); a caller's cancel is durable and is
/// not resumed. A job whose process died under it <see cref="TrainerOptions.MaxConsecutiveCrashes"/> times in a
/// row (<see cref="JobCrashes"/>) is marked FAILED on the next start instead of being resumed again.
/// </summary>
public sealed class JobRunner(
    JobRepository jobs,
    JobCrashes crashes,
    JobQueue queue,
    JobSpecValidator validator,
    JobEventPublisher events,
    TrainerMetrics metrics,
    IOptions<TrainerOptions> options,
    ILogger<JobRunner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Yield first: the host's start must not wait for a job.
        await Task.Yield();
        try
        {
            await MarkResumedAsync(stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (await jobs.NextRunnableAsync(stoppingToken).ConfigureAwait(false) is { } job)
                    {
                        await RunAsync(job, stoppingToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await queue.WaitAsync(stoppingToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The state store is unreachable (Redis restarting, disk full): keep the slot alive and retry,
                    // rather than let the host stop with the job half-recorded.
                    logger.LogError(e, "The job runner could not read or record job state; retrying in 5 s");
                    await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    /// <summary>Counts a restart against every job that was on the device when the previous process died.</summary>
    private async Task MarkResumedAsync(CancellationToken cancellationToken)
    {
        var max = Math.Max(1, options.Value.MaxConsecutiveCrashes);
        foreach (var job in await jobs.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!JobStates.WasInterrupted(job.State))
            {
                continue;
            }

            var inARow = await crashes.CountAsync(job, cancellationToken).ConfigureAwait(false);
            if (inARow >= max)
            {
                var reason = $"the trainer process died {inARow} times in a row while running this job (killed, e.g. out of memory, or crashed; "
                    + $"last seen at step {job.Progress?.Step ?? 0}, checkpoint {job.Progress?.CheckpointStep ?? 0}); not resumed again "
                    + $"(Alpaca:Trainer:MaxConsecutiveCrashes = {max})";
                logger.LogError("Job {JobId} failed: {Reason}", job.Id, reason);
                await FinishAsync(job.Id, JobState.Failed, reason).ConfigureAwait(false);
                continue;
            }

            logger.LogInformation("Job {JobId} was interrupted at step {Step} (checkpoint {Checkpoint}; {Crashes} crash(es) in a row); it resumes from its last checkpoint",
                job.Id, job.Progress?.Step, job.Progress?.CheckpointStep, inARow);
            await jobs.UpdateAsync(job.Id, j =>
            {
                j.Resumes++;
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(Job job, CancellationToken stoppingToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        queue.SetRunning(job.Id, cancellation);
        try
        {
            var started = await jobs.UpdateAsync(job.Id, j => Transition(j, JobState.Running), CancellationToken.None).ConfigureAwait(false);
            if (started is null || JobStates.IsTerminal(started.State))
            {
                return; // cancelled while it waited
            }

            await events.ProgressAsync(started, CancellationToken.None).ConfigureAwait(false);
            var dataPath = await validator.ResolveDataPathAsync(started.Spec, cancellation.Token).ConfigureAwait(false);
            var spec = JobSpecMapper.ToTrainingSpec(started.Spec, dataPath, started.Spec.OutputDir, options.Value.Device, options.Value.Threads);
            logger.LogInformation("Job {JobId} running: base {Base}, data {Data}, output {Output}", job.Id, spec.BaseModel, spec.DataPath, spec.OutputDir);

            var result = await TrainingJob.RunAsync(
                spec,
                new InlineProgress<TrainingStepEvent>(e => OnStep(job.Id, e)),
                new InlineProgress<TrainingPhase>(p => OnPhase(job.Id, p)),
                cancellation.Token).ConfigureAwait(false);

            var finished = await jobs.GetAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
            if (finished is not null && finished.State != JobState.Cancelled && result.GgufPath is not null)
            {
                await events.ModelPublishedAsync(finished, result, CancellationToken.None).ConfigureAwait(false);
            }

            await FinishAsync(job.Id, JobState.Succeeded, null, j =>
            {
                j.CheckpointDir = result.ModelDir;
                j.GgufPath = result.GgufPath ?? "";
            }).ConfigureAwait(false);
            logger.LogInformation("Job {JobId} succeeded: {Steps} steps, final loss {Loss}", job.Id, result.Steps, result.FinalLoss);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Left RUNNING on purpose: the next start resumes it from its last checkpoint, and does not count it as a crash.
            await crashes.MarkCleanStopAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
            logger.LogInformation("Job {JobId} interrupted by shutdown; it resumes on the next start", job.Id);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await FinishAsync(job.Id, JobState.Cancelled, "cancelled by a caller").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A job boundary: whatever the input or the engine threw fails this job, never the service.
            logger.LogWarning(e, "Job {JobId} failed", job.Id);
            await FinishAsync(job.Id, JobState.Failed, Reason(e)).ConfigureAwait(false);
        }
        finally
        {
            queue.ClearRunning(job.Id);
        }
    }

    private void OnStep(string jobId, TrainingStepEvent e)
    {
        // On the training thread, between optimizer steps: the record is durable before the next step starts.
        var job = jobs.UpdateAsync(jobId, j =>
        {
            if (JobStates.IsTerminal(j.State))
            {
                return false; // cancelled while this step ran: the record stays as the caller saw it end
            }

            j.Progress = new JobProgress
            {
                Step = e.Step,
                TotalSteps = e.TotalSteps,
                Epoch = e.Epoch,
                Loss = double.IsFinite(e.Loss) ? e.Loss : 0,
                LearningRate = e.LearningRate,
                TokensPerSecond = e.TokensPerSecond,
                Eta = Duration.FromTimeSpan(e.Eta < TimeSpan.Zero ? TimeSpan.Zero : e.Eta),
                CheckpointStep = e.CheckpointStep,
            };
            return true;
        }).GetAwaiter().GetResult();
        metrics.Step(e.Tokens);
        var every = Math.Max(1, options.Value.ProgressEventEverySteps);
        if (job is not null && !JobStates.IsTerminal(job.State) && (e.Step % every == 0 || e.Step == e.TotalSteps))
        {
            events.ProgressAsync(job).GetAwaiter().GetResult();
        }
    }

    private void OnPhase(string jobId, TrainingPhase phase)
    {
        if (phase == TrainingPhase.Done)
        {
            return; // SUCCEEDED is set once the model is published
        }

        var state = phase is TrainingPhase.Saving or TrainingPhase.Exporting ? JobState.Exporting : JobState.Running;
        var job = jobs.UpdateAsync(jobId, j => Transition(j, state)).GetAwaiter().GetResult();
        if (job is not null && job.State == JobState.Exporting && phase == TrainingPhase.Saving)
        {
            events.ProgressAsync(job).GetAwaiter().GetResult();
        }
    }

    private async Task FinishAsync(string jobId, JobState state, string? error, Action<Job>? also = null)
    {
        var changed = false;
        var job = await jobs.UpdateAsync(jobId, j =>
        {
            // A caller's cancel is final even if the job finished in the same moment.
            if (JobStates.IsTerminal(j.State))
            {
                return false;
            }

            j.State = state;
            j.Error = error ?? "";
            also?.Invoke(j);
            return changed = true;
        }, CancellationToken.None).ConfigureAwait(false);
        if (changed)
        {
            metrics.Finished(state);
        }

        if (job is not null)
        {
            await crashes.ForgetAsync(jobId, CancellationToken.None).ConfigureAwait(false);
            await events.ProgressAsync(job, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Moves a live job to RUNNING or EXPORTING; never revives a finished or cancelled one.</summary>
    private static bool Transition(Job job, JobState state)
    {
        if (JobStates.IsTerminal(job.State) || job.State == state)
        {
            return false;
        }

        job.State = state;
        return true;
    }

    private static string Reason(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Reason(a.InnerException!),
        _ => e.Message,
    };
}
