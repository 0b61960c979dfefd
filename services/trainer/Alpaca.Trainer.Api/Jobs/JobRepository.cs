using Alpaca.Contracts.V1;
using Alpaca.State;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// The durable job records: key <c>trainer/jobs/&lt;id&gt;</c> holds the <see cref="Job"/> as protobuf JSON,
/// written on every change, so a restarted service knows what was queued and what was running. One replica
/// owns the jobs (one job slot per device), so the records are also cached here and every change goes
/// through one gate: read-modify-write without lost updates, and watchers see changes in order.
/// A record that does not parse is quarantined (moved to <c>trainer/quarantine/jobs/&lt;id&gt;</c>, logged,
/// listed in <see cref="Quarantined"/>) instead of failing every call that loads the records.
/// </summary>
public sealed class JobRepository(IStateStore store, JobUpdates updates, ILogger<JobRepository> logger)
{
    private const string Prefix = "trainer/jobs/";
    private const string QuarantinePrefix = "trainer/quarantine/jobs/";
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, Job>? _jobs;
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
            return (await LoadedAsync(cancellationToken).ConfigureAwait(false)).TryGetValue(id, out var job) ? job.Clone() : null;
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
            var jobs = await LoadedAsync(cancellationToken).ConfigureAwait(false);
            if (jobs.TryGetValue(job.Id, out var existing))
            {
                return (existing.Clone(), false);
            }

            await PersistAsync(job, cancellationToken).ConfigureAwait(false);
            jobs[job.Id] = job.Clone();
            return (job.Clone(), true);
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
    public async Task<Job?> UpdateAsync(string id, Func<Job, bool> change, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var jobs = await LoadedAsync(cancellationToken).ConfigureAwait(false);
            if (!jobs.TryGetValue(id, out var current))
            {
                return null;
            }

            var updated = current.Clone();
            if (!change(updated))
            {
                return current.Clone();
            }

            updated.UpdatedAt = Timestamp.FromDateTime(DateTime.UtcNow);
            await PersistAsync(updated, cancellationToken).ConfigureAwait(false);
            jobs[id] = updated;
            updates.Publish(updated);
            return updated.Clone();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The job the device should run next: one that was interrupted mid-run first (it holds a checkpoint), then
    /// the oldest queued one.
    /// </summary>
    public async Task<Job?> NextRunnableAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return (await LoadedAsync(cancellationToken).ConfigureAwait(false)).Values
                .Where(j => j.State == JobState.Queued || JobStates.WasInterrupted(j.State))
                .OrderBy(j => JobStates.WasInterrupted(j.State) ? 0 : 1)
                .ThenBy(j => j.CreatedAt)
                .ThenBy(j => j.Id, StringComparer.Ordinal)
                .FirstOrDefault()?.Clone();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Dictionary<string, Job>> LoadedAsync(CancellationToken cancellationToken)
    {
        if (_jobs is not null)
        {
            return _jobs;
        }

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

        return _jobs = jobs;
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

    private Task PersistAsync(Job job, CancellationToken cancellationToken) =>
        store.SetAsync(StateKey.Join("trainer", "jobs", job.Id), System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(job)), cancellationToken);
}
