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
/// </summary>
public sealed class JobRepository(IStateStore store, JobUpdates updates)
{
    private const string Prefix = "trainer/jobs/";
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, Job>? _jobs;

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
                var job = Parser.Parse<Job>(System.Text.Encoding.UTF8.GetString(bytes));
                jobs[job.Id] = job;
            }
        }

        return _jobs = jobs;
    }

    private Task PersistAsync(Job job, CancellationToken cancellationToken) =>
        store.SetAsync(StateKey.Join("trainer", "jobs", job.Id), System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(job)), cancellationToken);
}
