using System.Text.RegularExpressions;
using Alpaca.Contracts.V1;
using Alpaca.Trainer.Api.Configuration;
using Alpaca.Trainer.Api.IntegrationEvents;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// What callers can do with jobs: submit (checked, then queued durably), get, list, cancel. The
/// <see cref="JobRunner"/> does the training.
/// </summary>
public sealed partial class JobManager(
    JobRepository jobs,
    JobQueue queue,
    JobSpecValidator validator,
    JobEventPublisher events,
    TrainerMetrics metrics,
    IOptions<TrainerOptions> options,
    JobPaths paths)
{
    /// <summary>Where jobs without an explicit output folder write.</summary>
    public string OutputRoot => paths.WorkRoot;

    /// <summary>Queues a job; an existing <paramref name="jobId"/> returns that job unchanged (idempotent submit).</summary>
    public async Task<(Job Job, bool Created)> SubmitAsync(JobSpec? spec, string? jobId, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(jobId))
        {
            if (!IsValidId(jobId))
            {
                throw new JobSpecException($"job_id '{jobId}' must be 1-100 characters of [A-Za-z0-9._-].");
            }

            if (await jobs.GetAsync(jobId, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                return (existing, false);
            }
        }

        await validator.ValidateAsync(spec, cancellationToken).ConfigureAwait(false);
        var id = string.IsNullOrEmpty(jobId) ? NewId() : jobId;
        var stored = spec!.Clone();

        // Resolved paths in the record (links followed, inside the roots): the runner, perhaps after a restart,
        // must find the same files, and a link changed after submit cannot redirect it.
        if (stored.BaseModelCase == JobSpec.BaseModelOneofCase.BaseModelPath)
        {
            stored.BaseModelPath = paths.Read(stored.BaseModelPath, "spec.base_model_path");
        }

        if (stored.DatasetCase == JobSpec.DatasetOneofCase.DatasetPath)
        {
            stored.DatasetPath = paths.Read(stored.DatasetPath, "spec.dataset_path");
        }

        stored.OutputDir = string.IsNullOrWhiteSpace(spec.OutputDir) ? Path.Combine(paths.WorkRoot, id) : paths.Output(spec.OutputDir);
        if (string.IsNullOrWhiteSpace(stored.ModelName))
        {
            stored.ModelName = id;
        }

        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        var job = new Job { Id = id, Spec = stored, State = JobState.Queued, Progress = new JobProgress(), CreatedAt = now, UpdatedAt = now };
        var (result, created) = await jobs.AddIfAbsentAsync(job, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            metrics.Submitted();
            queue.Signal();
            await events.ProgressAsync(result, cancellationToken).ConfigureAwait(false);
        }

        return (result, created);
    }

    public Task<Job?> GetAsync(string jobId, CancellationToken cancellationToken) => jobs.GetAsync(jobId, cancellationToken);

    /// <summary>Why <paramref name="jobId"/> has no record: it was unreadable and moved aside (null: it never existed).</summary>
    public Task<QuarantinedRecord?> QuarantinedAsync(string jobId, CancellationToken cancellationToken) => jobs.FindQuarantinedAsync(jobId, cancellationToken);

    /// <summary>Newest first; the page token is the offset of the next page.</summary>
    public async Task<(IReadOnlyList<Job> Jobs, string NextPageToken)> ListAsync(int pageSize, string pageToken, CancellationToken cancellationToken)
    {
        var size = pageSize <= 0 ? 50 : Math.Min(pageSize, options.Value.MaxPageSize);
        var offset = 0;
        if (!string.IsNullOrEmpty(pageToken) && (!int.TryParse(pageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset) || offset < 0))
        {
            throw new JobSpecException($"page_token '{pageToken}' is not a token this service returned.");
        }

        var all = await jobs.ListAsync(cancellationToken).ConfigureAwait(false);
        var page = all.Skip(offset).Take(size).ToList();
        var next = offset + page.Count < all.Count ? (offset + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        return (page, next);
    }

    /// <summary>
    /// Cancels a queued or running job. The state is CANCELLED durably at once (a restart must not resume it);
    /// a running job then stops between micro-batches. Null: no such job.
    /// </summary>
    public async Task<Job?> CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        var changed = false;
        var job = await jobs.UpdateAsync(jobId, j =>
        {
            if (JobStates.IsTerminal(j.State))
            {
                return false;
            }

            j.State = JobState.Cancelled;
            j.Error = "cancelled by a caller";
            return changed = true;
        }, cancellationToken).ConfigureAwait(false);
        if (job is null)
        {
            return null;
        }

        if (changed)
        {
            // For the replica running it, wherever that is: it stops at its next step.
            await jobs.RequestCancelAsync(jobId, cancellationToken).ConfigureAwait(false);
            metrics.Finished(JobState.Cancelled);
        }

        if (job.State == JobState.Cancelled)
        {
            queue.TryCancelRunning(jobId);
            await events.ProgressAsync(job, cancellationToken).ConfigureAwait(false);
        }

        return job;
    }

    public static bool IsValidId(string id) => id.Length is > 0 and <= 100 && IdPattern().IsMatch(id) && id is not "." and not "..";

    private static string NewId() => $"job-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    [GeneratedRegex(@"^[A-Za-z0-9._\-]+$")]
    private static partial Regex IdPattern();
}
