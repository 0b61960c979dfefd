using Alpaca.Contracts.V1;
using Alpaca.Llm.IO.Exports;
using Alpaca.State;
using Alpaca.Trainer.Api.Configuration;
using Alpaca.Trainer.Api.IntegrationEvents;
using Alpaca.Trainer.Training;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// The device's job slot: runs one job at a time, oldest first, interrupted ones before queued ones. Any number
/// of replicas share the queue: a replica runs a job only while it holds the job's lease in the state store
/// (<see cref="HeldLease"/>, owner <see cref="ReplicaInstance.Id"/>, TTL <see cref="TrainerOptions.LeaseTtl"/>,
/// renewed every third of it), and every write of the job's record is fenced by the lease's token. A job found
/// RUNNING or EXPORTING whose lease this replica could take was left by a process that died (killed, OOM, a lost
/// node: its lease expired) and resumes from its newest valid checkpoint: the trainer core restores weights,
/// AdamW moments, schedule, data position and RNG, so the loss curve continues as if nothing had stopped.
/// Stopping the host interrupts the job the same way but marks a clean stop and releases the lease, so the next
/// replica (a rolling update's new pod) resumes it at once and does not count it as a crash. A job whose process
/// died under it <see cref="TrainerOptions.MaxConsecutiveCrashes"/> times in a row (<see cref="JobCrashes"/>) is
/// marked FAILED instead of being resumed again. A holder that loses its lease (paused past the TTL, partitioned)
/// stops and writes nothing more: the replica that took over owns the record.
/// </summary>
public sealed class JobRunner(
    JobRepository jobs,
    JobCrashes crashes,
    JobQueue queue,
    JobSpecValidator validator,
    JobEventPublisher events,
    TrainerMetrics metrics,
    IStateStore store,
    IOptions<TrainerOptions> options,
    ILogger<JobRunner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Yield first: the host's start must not wait for a job.
        await Task.Yield();
        logger.LogInformation("Job runner {Owner}: lease TTL {Ttl}, polling every {Poll}", ReplicaInstance.Id, options.Value.LeaseTtl, options.Value.JobPollInterval);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (!await TryRunOneAsync(stoppingToken).ConfigureAwait(false))
                    {
                        // A signal is a job queued here; the poll finds jobs queued on other replicas and expired leases.
                        await queue.WaitAsync(stoppingToken).WaitAsync(options.Value.JobPollInterval, stoppingToken)
                            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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

    /// <summary>Claims and runs the first runnable job whose lease is free; false when there was none.</summary>
    private async Task<bool> TryRunOneAsync(CancellationToken stoppingToken)
    {
        foreach (var candidate in await jobs.RunnableAsync(stoppingToken).ConfigureAwait(false))
        {
            var held = await HeldLease.TryAcquireAsync(store, JobRepository.LeaseKey(candidate.Id), ReplicaInstance.Id, options.Value.LeaseTtl, logger, stoppingToken).ConfigureAwait(false);
            if (held is null)
            {
                continue; // another replica runs it
            }

            await using (held.ConfigureAwait(false))
            {
                // Read again under the lease: the list may be older than the last holder's final write.
                var job = await jobs.GetAsync(candidate.Id, stoppingToken).ConfigureAwait(false);
                if (job is null || !(job.State == JobState.Queued || JobStates.WasInterrupted(job.State)))
                {
                    continue;
                }

                try
                {
                    if (JobStates.WasInterrupted(job.State) && !await ResumeAsync(job, held, stoppingToken).ConfigureAwait(false))
                    {
                        return true;
                    }

                    await RunAsync(job, held, stoppingToken).ConfigureAwait(false);
                }
                catch (JobLeaseLostException e)
                {
                    logger.LogWarning("{Message} This replica stops working on it", e.Message);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A job left RUNNING by a holder whose lease ended: counts the death and resumes it, or fails it when it
    /// died too often in a row (false).
    /// </summary>
    private async Task<bool> ResumeAsync(Job job, HeldLease held, CancellationToken cancellationToken)
    {
        var max = Math.Max(1, options.Value.MaxConsecutiveCrashes);
        var inARow = await crashes.CountAsync(job, cancellationToken).ConfigureAwait(false);
        if (inARow >= max)
        {
            var reason = $"the trainer process died {inARow} times in a row while running this job (killed, e.g. out of memory, or crashed; "
                + $"last seen at step {job.Progress?.Step ?? 0}, checkpoint {job.Progress?.CheckpointStep ?? 0}); not resumed again "
                + $"(Alpaca:Trainer:MaxConsecutiveCrashes = {max})";
            logger.LogError("Job {JobId} failed: {Reason}", job.Id, reason);
            await FinishAsync(job.Id, held, JobState.Failed, reason).ConfigureAwait(false);
            return false;
        }

        logger.LogInformation("Job {JobId} was interrupted at step {Step} (checkpoint {Checkpoint}; {Crashes} crash(es) in a row); {Owner} resumes it from its last checkpoint",
            job.Id, job.Progress?.Step, job.Progress?.CheckpointStep, inARow, ReplicaInstance.Id);
        await jobs.UpdateAsync(job.Id, j =>
        {
            j.Resumes++;
            return true;
        }, cancellationToken, held).ConfigureAwait(false);
        return true;
    }

    private async Task RunAsync(Job job, HeldLease held, CancellationToken stoppingToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var deposed = CancellationTokenSource.CreateLinkedTokenSource(cancellation.Token, held.Lost);
        queue.SetRunning(job.Id, cancellation);
        try
        {
            if (await jobs.CancelRequestedAsync(job.Id, CancellationToken.None).ConfigureAwait(false))
            {
                await FinishAsync(job.Id, held, JobState.Cancelled, "cancelled by a caller").ConfigureAwait(false);
                return;
            }

            var started = await jobs.UpdateAsync(job.Id, j => Transition(j, JobState.Running), CancellationToken.None, held).ConfigureAwait(false);
            if (started is null || JobStates.IsTerminal(started.State))
            {
                return; // cancelled while it waited
            }

            await events.ProgressAsync(started, CancellationToken.None).ConfigureAwait(false);
            var dataPath = await validator.ResolveDataPathAsync(started.Spec, cancellation.Token).ConfigureAwait(false);
            var spec = JobSpecMapper.ToTrainingSpec(started.Spec, dataPath, started.Spec.OutputDir, options.Value.Device, options.Value.Threads) with
            {
                // On the training thread, with the export staged: a holder deposed meanwhile is refused here and its files are
                // deleted; one frozen after its confirmation puts the newer holder's export back after its renames.
                ExportFence = new JobExportFence(jobs, job.Id, held),
            };
            logger.LogInformation("Job {JobId} running: base {Base}, data {Data}, output {Output}", job.Id, spec.BaseModel, spec.DataPath, spec.OutputDir);

            var result = await TrainingJob.RunAsync(
                spec,
                new InlineProgress<TrainingStepEvent>(e => OnStep(job.Id, held, cancellation, e)),
                new InlineProgress<TrainingPhase>(p => OnPhase(job.Id, held, p)),
                deposed.Token).ConfigureAwait(false);

            // A fenced write first: a holder deposed while exporting must not announce the model the new holder will.
            var finished = await jobs.UpdateAsync(job.Id, j => !JobStates.IsTerminal(j.State), CancellationToken.None, held).ConfigureAwait(false);
            if (finished is not null && finished.State != JobState.Cancelled && result.GgufPath is not null)
            {
                await events.ModelPublishedAsync(finished, result, CancellationToken.None).ConfigureAwait(false);
            }

            await FinishAsync(job.Id, held, JobState.Succeeded, null, j =>
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
        catch (ExportSupersededException e)
        {
            // Deposed between its export's confirmation and its renames: the newer holder's export is back in place.
            logger.LogWarning("Job {JobId}: {Message}", job.Id, e.Message);
        }
        catch (Exception e) when (held.Lost.IsCancellationRequested && e is not JobLeaseLostException)
        {
            // Deposed (the lease lapsed or was taken): the replica that holds it now owns the record; write nothing.
            logger.LogWarning("Job {JobId}: this replica lost its lease mid-run ({Error}); it stops and leaves the job to the new holder", job.Id, e.Message);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await FinishAsync(job.Id, held, JobState.Cancelled, "cancelled by a caller").ConfigureAwait(false);
        }
        catch (Exception e) when (e is not JobLeaseLostException)
        {
            // A job boundary: whatever the input or the engine threw fails this job, never the service.
            logger.LogWarning(e, "Job {JobId} failed", job.Id);
            await FinishAsync(job.Id, held, JobState.Failed, Reason(e)).ConfigureAwait(false);
        }
        finally
        {
            queue.ClearRunning(job.Id);
        }
    }

    private void OnStep(string jobId, HeldLease held, CancellationTokenSource cancellation, TrainingStepEvent e)
    {
        // A cancel made on another replica: stop between steps, as for one made here.
        if (jobs.CancelRequestedAsync(jobId).GetAwaiter().GetResult())
        {
            cancellation.Cancel();
        }

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
        }, CancellationToken.None, held).GetAwaiter().GetResult();
        metrics.Step(e.Tokens);
        var every = Math.Max(1, options.Value.ProgressEventEverySteps);
        if (job is not null && !JobStates.IsTerminal(job.State) && (e.Step % every == 0 || e.Step == e.TotalSteps))
        {
            events.ProgressAsync(job).GetAwaiter().GetResult();
        }
    }

    private void OnPhase(string jobId, HeldLease held, TrainingPhase phase)
    {
        if (phase == TrainingPhase.Done)
        {
            return; // SUCCEEDED is set once the model is published
        }

        var state = phase is TrainingPhase.Saving or TrainingPhase.Exporting ? JobState.Exporting : JobState.Running;
        var job = jobs.UpdateAsync(jobId, j => Transition(j, state), CancellationToken.None, held).GetAwaiter().GetResult();
        if (job is not null && job.State == JobState.Exporting && phase == TrainingPhase.Saving)
        {
            events.ProgressAsync(job).GetAwaiter().GetResult();
        }
    }

    private async Task FinishAsync(string jobId, HeldLease held, JobState state, string? error, Action<Job>? also = null)
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
        }, CancellationToken.None, held).ConfigureAwait(false);
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
