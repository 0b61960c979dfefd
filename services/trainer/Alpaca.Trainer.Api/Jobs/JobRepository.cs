using Alpaca.Contracts.V1;
using Alpaca.Llm.IO.Exports;
using Alpaca.State;
using Alpaca.Trainer.Training;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// The durable job records: key <c>trainer/jobs/&lt;id&gt;</c> holds the <see cref="Job"/> as protobuf JSON,
/// written on every change, so a restarted service knows what was queued and what was running. Replicas share
/// the records, so every read goes to the store (nothing is cached: another replica may have changed a job);
/// within a process every change goes through one gate, so watchers see changes in order. The replica that
/// runs a job writes it only through its lease (<see cref="HeldLease"/>): a fenced write that a deposed
/// holder cannot make (<see cref="JobLeaseLostException"/>). Callers' cancels are plain writes plus a cancel
/// request (<c>trainer/job-cancels/&lt;id&gt;</c>) that the holder reads every step, so a holder's progress
/// write that raced a cancel on another replica cannot undo it.
/// A record that does not parse is quarantined (moved to <c>trainer/quarantine/jobs/&lt;id&gt;</c>, logged,
/// listed in <see cref="Quarantined"/>) instead of failing every call that loads the records.
/// </summary>
public sealed class JobRepository(IStateStore store, JobUpdates updates, ILogger<JobRepository> logger)
{
    private const string Prefix = "trainer/jobs/";
    private const string QuarantinePrefix = "trainer/quarantine/jobs/";
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<QuarantinedRecord> _quarantined = [];

    /// <summary>The unreadable records this process moved aside, oldest first.</summary>
    public async Task<IReadOnlyList<QuarantinedRecord>> QuarantinedAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await LoadedAsync(cancellationToken).ConfigureAwait(false);
            return _quarantined.ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The quarantine entry of <paramref name="id"/>, when its record was unreadable.</summary>
    public async Task<QuarantinedRecord?> FindQuarantinedAsync(string id, CancellationToken cancellationToken = default) =>
        (await QuarantinedAsync(cancellationToken).ConfigureAwait(false)).LastOrDefault(q => q.JobId == id);

    public async Task<Job?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadAsync(id, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>All jobs, newest first.</summary>
    public async Task<IReadOnlyList<Job>> ListAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return (await LoadedAsync(cancellationToken).ConfigureAwait(false)).Values
                .OrderByDescending(j => j.CreatedAt)
                .ThenByDescending(j => j.Id, StringComparer.Ordinal)
                .Select(j => j.Clone())
                .ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stores a new job unless one with its id exists; returns the stored job and whether it is new.</summary>
    public async Task<(Job Job, bool Created)> AddIfAbsentAsync(Job job, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Set-if-absent in the store, not a check here: two replicas may take the same idempotent submit.
            if (await store.SetIfAbsentAsync(Key(job.Id), Serialize(job), cancellationToken).ConfigureAwait(false))
            {
                return (job.Clone(), true);
            }

            return (await ReadAsync(job.Id, cancellationToken).ConfigureAwait(false) ?? job.Clone(), false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Changes a job: <paramref name="change"/> edits it and returns false to leave it as it was. The change is
    /// durable before watchers see it. Returns the job after the call, or null when there is no such job.
    /// </summary>
    /// <param name="lease">The runner's lease on the job: the write is fenced, and refused with
    /// <see cref="JobLeaseLostException"/> once another replica holds a newer lease. Null: a caller's plain write.</param>
    public async Task<Job?> UpdateAsync(string id, Func<Job, bool> change, CancellationToken cancellationToken = default, HeldLease? lease = null)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await ReadAsync(id, cancellationToken).ConfigureAwait(false) is not { } current)
            {
                return null;
            }

            var updated = current.Clone();
            if (!change(updated))
            {
                return current;
            }

            updated.UpdatedAt = Timestamp.FromDateTime(DateTime.UtcNow);
            if (lease is null)
            {
                await store.SetAsync(Key(id), Serialize(updated), cancellationToken).ConfigureAwait(false);
            }
            else if (!await lease.SetAsync(Key(id), Serialize(updated), cancellationToken).ConfigureAwait(false))
            {
                throw new JobLeaseLostException(id, lease.Lease);
            }

            updates.Publish(updated);
            return updated.Clone();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The jobs a device could run, in the order to try them: interrupted mid-run first (they hold a checkpoint;
    /// on another replica they may still be running, which the lease tells), then queued ones, oldest first.
    /// </summary>
    public async Task<IReadOnlyList<Job>> RunnableAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return (await LoadedAsync(cancellationToken).ConfigureAwait(false)).Values
                .Where(j => j.State == JobState.Queued || JobStates.WasInterrupted(j.State))
                .OrderBy(j => JobStates.WasInterrupted(j.State) ? 0 : 1)
                .ThenBy(j => j.CreatedAt)
                .ThenBy(j => j.Id, StringComparer.Ordinal)
                .ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The lease key of a job (leases live apart from values, so it is the record's own key).</summary>
    public static string LeaseKey(string id) => Key(id);

    /// <summary>
    /// The runner's confirmation that it may still put the job's export in place (<see cref="TrainingJobSpec.ExportFence"/>,
    /// <see cref="JobExportFence"/>): a fenced write of <c>trainer/job-exports/{id}</c> holding the export's manifest (its
    /// generation folder and every file's SHA-256, who confirmed it and when), refused with <see cref="JobLeaseLostException"/>
    /// once another replica holds a newer lease, so a deposed holder's export is deleted instead of replacing the new
    /// holder's files.
    /// </summary>
    public async Task ConfirmExportAsync(string id, HeldLease lease, ExportManifest manifest, CancellationToken cancellationToken = default)
    {
        var record = (manifest with { Owner = lease.Lease.Owner, ConfirmedAt = DateTimeOffset.UtcNow }).ToJson();
        if (!await lease.SetAsync(ExportKey(id), record, cancellationToken).ConfigureAwait(false))
        {
            throw new JobLeaseLostException(id, lease.Lease);
        }
    }

    /// <summary>The job's newest confirmed export (null: none, or a record from before confirmations carried manifests).</summary>
    public async Task<ExportManifest?> LoadExportAsync(string id, CancellationToken cancellationToken = default) =>
        await store.GetAsync(ExportKey(id), cancellationToken).ConfigureAwait(false) is { } bytes ? ExportManifest.FromJson(bytes) : null;

    /// <summary>Records a caller's cancel where the replica running the job reads it every step.</summary>
    public Task RequestCancelAsync(string id, CancellationToken cancellationToken = default) =>
        store.SetAsync(CancelKey(id), "1"u8.ToArray(), cancellationToken);

    public async Task<bool> CancelRequestedAsync(string id, CancellationToken cancellationToken = default) =>
        await store.GetAsync(CancelKey(id), cancellationToken).ConfigureAwait(false) is not null;

    private async Task<Job?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        var key = Key(id);
        if (await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } bytes)
        {
            return null;
        }

        if (Parse(key, bytes, out var reason) is { } job)
        {
            return job;
        }

        await QuarantineAsync(key, bytes, reason!, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private async Task<Dictionary<string, Job>> LoadedAsync(CancellationToken cancellationToken)
    {
        var jobs = new Dictionary<string, Job>(StringComparer.Ordinal);
        foreach (var key in await store.ListKeysAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is { } bytes)
            {
                if (Parse(key, bytes, out var reason) is { } job)
                {
                    jobs[job.Id] = job;
                }
                else
                {
                    await QuarantineAsync(key, bytes, reason!, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return jobs;
    }

    private static Job? Parse(string key, byte[] bytes, out string? reason)
    {
        try
        {
            var job = Parser.Parse<Job>(System.Text.Encoding.UTF8.GetString(bytes));
            var expected = key[Prefix.Length..];
            reason = job.Id == expected ? null : $"the record holds job id '{job.Id}', its key says '{expected}'";
            return reason is null ? job : null;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException or ArgumentException)
        {
            reason = e.Message;
            return null;
        }
    }

    private async Task QuarantineAsync(string key, byte[] bytes, string reason, CancellationToken cancellationToken)
    {
        var id = key[Prefix.Length..];
        var target = QuarantinePrefix + id;
        // Copy first, then delete: a crash in between leaves the record in both places, never in neither.
        await store.SetAsync(target, bytes, cancellationToken).ConfigureAwait(false);
        await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        _quarantined.Add(new QuarantinedRecord(id, key, target, reason));
        logger.LogError("Job record {Key} is unreadable ({Reason}); moved to {QuarantineKey}. The other jobs are unaffected", key, reason, target);
    }

    private static string Key(string id) => StateKey.Join("trainer", "jobs", id);

    private static string CancelKey(string id) => StateKey.Join("trainer", "job-cancels", id);

    private static string ExportKey(string id) => StateKey.Join("trainer", "job-exports", id);

    private static byte[] Serialize(Job job) => System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(job));
}
