using System.Collections.Concurrent;
using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Api.Dedup;
using Alpaca.Generator.Api.Metrics;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using Alpaca.State;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// Runs generation runs in the background of the service: start (idempotent by run id), get, list, cancel
/// and watch. Any number of replicas share the runs in the state store: a replica works on a run only while it
/// holds the run's lease (<see cref="HeldLease"/> on <c>generator/runs/{id}</c>, owner <see cref="ReplicaInstance.Id"/>,
/// TTL <see cref="GeneratorOptions.LeaseTtl"/>, renewed every third of it), and every write of the run (checkpoint,
/// kept log) goes through <see cref="FencedRunStore"/>, so a holder that was deposed (paused or partitioned past
/// its TTL) has its late writes refused. Every <see cref="GeneratorOptions.RunPollInterval"/> (and at once at start)
/// each replica with a free slot (<see cref="GeneratorOptions.MaxActiveRuns"/>) claims unfinished runs whose lease
/// is free: queued ones, and those left running by a replica that died (its lease expired); such a run resumes
/// where its durable state says. Stopping the service stops its runs without marking them and releases their
/// leases, so another replica (or the next start) resumes them at once.
/// </summary>
public sealed class RunManager(
    StateRunStore store,
    RunRequests requests,
    IInstructionDeduplicator dedup,
    IDatasetPublisher publisher,
    DecisionInbox inbox,
    GeneratorMetrics metrics,
    GeneratorOptions options,
    RunPaths paths,
    RunTeachers teachers,
    IStateStore state,
    TimeProvider time,
    ILogger<RunManager> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, RunEntry> _runs = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.MaxActiveRuns));
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task _claims = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var known = 0;
        foreach (var id in await store.ListRunIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await TryLoadEntryAsync(id, cancellationToken).ConfigureAwait(false) is not null)
            {
                known++;
            }
        }

        logger.LogInformation("Generator {Owner}: {Count} stored runs; lease TTL {Ttl}, polling every {Poll}", ReplicaInstance.Id, known, options.LeaseTtl, options.RunPollInterval);
        _claims = Task.Run(ClaimLoopAsync, CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _claims.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var active = _runs.Values.Select(e => e.Task).OfType<Task>().ToArray();
        await Task.WhenAll(active).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var entry in _runs.Values)
        {
            entry.EndWatches();
        }
    }

    /// <summary>Starts a run, or returns the existing run with that id (whichever replica created it).</summary>
    public async Task<Run> StartRunAsync(StartRunRequest request, CancellationToken cancellationToken)
    {
        var id = string.IsNullOrEmpty(request.RunId) ? $"run-{time.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}" : request.RunId;
        if (_runs.TryGetValue(id, out var existing))
        {
            return await SnapshotAsync(existing, cancellationToken).ConfigureAwait(false);
        }

        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        HeldLease? held = null;
        try
        {
            existing = _runs.TryGetValue(id, out var known) ? known : await LoadStoredAsync(id, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                return existing.Snapshot;
            }

            var spec = RunSpecFactory.BuildSpec(id, request.Spec ?? throw new GeneratorInputException("spec is required."), options, paths, teachers);
            spec = spec with { Seed = spec.Seed ?? (ulong)Random.Shared.NextInt64() };
            _ = RunSpecFactory.BuildTeacher(request.Spec, options, teachers); // refuse a bad teacher now, not in the background

            // Created under the run's lease: two replicas asked to start the same id at once create it once.
            held = await HeldLease.TryAcquireAsync(state, StateRunStore.LeaseKey(id), ReplicaInstance.Id, options.LeaseTtl, logger, cancellationToken).ConfigureAwait(false);
            if (held is null || await LoadStoredAsync(id, cancellationToken).ConfigureAwait(false) is not null)
            {
                return (await WaitForStoredAsync(id, cancellationToken).ConfigureAwait(false)).Snapshot;
            }

            var now = time.GetUtcNow();
            var checkpoint = new RunCheckpoint { Status = RunStatus.Queued, CreatedAt = now, UpdatedAt = now };

            // The request first: a run whose checkpoint exists can always be resumed.
            await requests.SaveAsync(id, request.Spec, cancellationToken).ConfigureAwait(false);
            await store.CreateAsync(spec, checkpoint, held.Lease, cancellationToken).ConfigureAwait(false);
            var entry = new RunEntry(id, request.Spec, now, spec.OutputDir, RunMapper.FromCheckpoint(id, request.Spec, checkpoint, spec.OutputDir));
            _runs[id] = entry;
            if (_slots.Wait(0))
            {
                Launch(entry, spec, held);
                held = null; // the run owns it now
            }
            else
            {
                Wake(); // no slot here: released below, claimed by whichever replica has one first
            }

            logger.LogInformation("Run {RunId} started: {Target} instructions from {Teacher}", id, spec.NumInstructions, spec.Teacher);
            return entry.Snapshot;
        }
        finally
        {
            if (held is not null)
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }

            _startLock.Release();
        }
    }

    public async Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        await FindAsync(runId, cancellationToken).ConfigureAwait(false) is { } entry ? await SnapshotAsync(entry, cancellationToken).ConfigureAwait(false) : null;

    /// <summary>Runs, newest first; the page token is the offset of the next page.</summary>
    public (IReadOnlyList<Run> Runs, string NextPageToken) ListRuns(int pageSize, string pageToken)
    {
        var size = pageSize is > 0 and <= 1000 ? pageSize : 50;
        var offset = int.TryParse(pageToken, out var o) && o > 0 ? o : 0;
        var all = _runs.Values.OrderByDescending(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
        var page = all.Skip(offset).Take(size).Select(e => e.Snapshot).ToList();
        return (page, offset + size < all.Count ? (offset + size).ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
    }

    /// <summary>
    /// Cancels a run: null when unknown; a finished run is returned unchanged. A run held by another replica gets
    /// a durable cancel request (<c>generator/runs/{id}/cancel</c>) that its holder sees within a poll interval;
    /// a run nobody holds is marked cancelled here, under its lease.
    /// </summary>
    public async Task<Run?> CancelRunAsync(string runId, CancellationToken cancellationToken)
    {
        if (await FindAsync(runId, cancellationToken).ConfigureAwait(false) is not { } entry)
        {
            return null;
        }

        if (RunMapper.IsTerminal((await SnapshotAsync(entry, cancellationToken).ConfigureAwait(false)).State))
        {
            return entry.Snapshot;
        }

        entry.CancelRequested = true;
        if (entry.Task is { IsCompleted: false } task && entry.Cts is { } cts)
        {
            await cts.CancelAsync().ConfigureAwait(false);
            await task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return entry.Snapshot;
        }

        await state.SetAsync(StateRunStore.Key(runId, "cancel"), "1"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        var deadline = time.GetUtcNow() + options.LeaseTtl + options.RunPollInterval;
        while (true)
        {
            var held = await HeldLease.TryAcquireAsync(state, StateRunStore.LeaseKey(runId), ReplicaInstance.Id, options.LeaseTtl, logger, cancellationToken).ConfigureAwait(false);
            if (held is not null)
            {
                await using (held.ConfigureAwait(false))
                {
                    await MarkCancelledAsync(entry, new FencedRunStore(store, held)).ConfigureAwait(false);
                }

                return entry.Snapshot;
            }

            // Its holder stops it at its next look at the request.
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            if (RunMapper.IsTerminal((await SnapshotAsync(entry, cancellationToken).ConfigureAwait(false)).State) || time.GetUtcNow() >= deadline)
            {
                return entry.Snapshot;
            }
        }
    }

    /// <summary>The run's entry (for watching), or null when unknown.</summary>
    internal async Task<RunEntry?> FindAsync(string runId, CancellationToken cancellationToken) =>
        _runs.TryGetValue(runId, out var entry) ? entry : await LoadStoredAsync(runId, cancellationToken).ConfigureAwait(false);

    /// <summary>The entry's snapshot, read again from the store when another replica runs it (or nobody does).</summary>
    private async Task<Run> SnapshotAsync(RunEntry entry, CancellationToken cancellationToken)
    {
        if (!entry.IsActive)
        {
            await RefreshAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        return entry.Snapshot;
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    /// <summary>Looks for runs to claim at start, on every poll, and whenever a slot frees up here.</summary>
    private async Task ClaimLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await ClaimAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // The state store is unreachable (Redis restarting): keep looking rather than stop claiming.
                logger.LogError(e, "Looking for runs to claim failed; retrying in {Poll}", options.RunPollInterval);
            }

            await ((Task)_wake.WaitAsync(options.RunPollInterval, token)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task ClaimAsync(CancellationToken token)
    {
        foreach (var id in await store.ListRunIdsAsync(token).ConfigureAwait(false))
        {
            if (_runs.TryGetValue(id, out var known) && known.IsActive)
            {
                continue;
            }

            var entry = known ?? await TryLoadEntryAsync(id, token).ConfigureAwait(false);
            if (entry is null)
            {
                continue;
            }

            var checkpoint = await RefreshAsync(entry, token).ConfigureAwait(false);
            if (checkpoint is null || !IsResumable(checkpoint) || !_slots.Wait(0))
            {
                continue;
            }

            var launched = false;
            var held = await HeldLease.TryAcquireAsync(state, StateRunStore.LeaseKey(id), ReplicaInstance.Id, options.LeaseTtl, logger, token).ConfigureAwait(false);
            try
            {
                if (held is null)
                {
                    continue; // another replica runs it
                }

                // Read again under the lease: the last holder's final write may be newer than what was listed.
                var spec = await store.LoadSpecAsync(id, token).ConfigureAwait(false);
                checkpoint = await RefreshAsync(entry, token).ConfigureAwait(false);
                if (spec is null || checkpoint is null || !IsResumable(checkpoint))
                {
                    continue;
                }

                if (checkpoint.Status is RunStatus.Running or RunStatus.Paused)
                {
                    logger.LogInformation("Run {RunId} was left {Status} by a replica that stopped or died ({Kept} kept); {Owner} resumes it", id, checkpoint.Status, checkpoint.Counters.Kept, ReplicaInstance.Id);
                }

                // What defines the data comes from the stored spec; how to pace it from today's configuration.
                Launch(entry, spec with { PauseDelay = options.PauseDelay, ExportInterval = options.ExportInterval }, held);
                launched = true;
            }
            finally
            {
                if (!launched)
                {
                    _slots.Release();
                    if (held is not null)
                    {
                        await held.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }
        }
    }

    private static bool IsResumable(RunCheckpoint checkpoint) =>
        checkpoint.Status is RunStatus.Queued or RunStatus.Running or RunStatus.Paused || (checkpoint.Status == RunStatus.Succeeded && !checkpoint.Published);

    /// <summary>Runs <paramref name="entry"/> under <paramref name="held"/>, in a slot already taken; both are given back at the end.</summary>
    private void Launch(RunEntry entry, SelfInstructRunSpec spec, HeldLease held)
    {
        entry.CancelRequested = false;
        entry.Cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, held.Lost);
        entry.Task = Task.Run(() => ExecuteAsync(entry, spec, held, entry.Cts.Token));
    }

    private async Task ExecuteAsync(RunEntry entry, SelfInstructRunSpec spec, HeldLease held, CancellationToken token)
    {
        var fenced = new FencedRunStore(store, held);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(token);
        var cancelWatch = WatchCancelRequestAsync(entry, watching.Token);
        try
        {
            using var teacher = new OpenAiTeacherClient(RunSpecFactory.BuildTeacher(entry.Request, options, teachers));
            var run = new GenerationRun(fenced, teacher, dedup, publisher, time) { Deposed = held.Lost };
            Generator.Runs.RunProgress? last = null;
            run.ProgressChanged += p =>
            {
                metrics.Observe(last, p);
                last = p;
                entry.Publish(RunMapper.FromProgress(p, entry.Request, entry.CreatedAt, time.GetUtcNow()));
            };
            var result = await run.RunAsync(spec, token).ConfigureAwait(false);
            entry.Publish(RunMapper.FromProgress(result, entry.Request, entry.CreatedAt, time.GetUtcNow()));
            logger.LogInformation("Run {RunId} ended {Status} with {Kept} kept{Error}", entry.Id, result.Status, result.Kept, result.Error is null ? "" : ": " + result.Error);
        }
        catch (Exception e) when (e is RunLeaseLostException or Llm.IO.Exports.ExportSupersededException || held.Lost.IsCancellationRequested)
        {
            // Deposed: the replica that took the run over owns it now (its export is the one in place); this one writes nothing more.
            logger.LogWarning("Run {RunId}: this replica lost its lease ({Reason}); it stops working on it", entry.Id, e.Message);
        }
        catch (Exception e) when (StateStoreFaults.IsUnavailable(e) && !entry.CancelRequested)
        {
            // The state store dropped out under the run (Redis restarting): every write it made is durable and fenced,
            // so it is left as it is; the claim loop takes its lease again once the store answers (here, or another
            // replica) and resumes it, instead of a restart of Redis failing every run in flight.
            logger.LogWarning("Run {RunId} stopped: the state store is unreachable ({Reason}); it resumes once the store answers", entry.Id, e.Message);
        }
        catch (Exception e) when (token.IsCancellationRequested)
        {
            // Cancelled, or the service is stopping: whatever stopped the run's work then (an aborted gRPC
            // call, a cancelled wait) is not the run's failure.
            if (entry.CancelRequested)
            {
                await MarkCancelledAsync(entry, fenced).ConfigureAwait(false);
            }
            else
            {
                logger.LogInformation("Run {RunId} stopped with the service ({Reason}); another replica or the next start resumes it", entry.Id, e.GetType().Name);
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Run {RunId} failed", entry.Id);
            await MarkFailedAsync(entry, fenced, e.Message).ConfigureAwait(false);
        }
        finally
        {
            await watching.CancelAsync().ConfigureAwait(false);
            await cancelWatch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            inbox.Forget(spec.DedupNamespace);
            await held.DisposeAsync().ConfigureAwait(false); // released: the next replica need not wait for the TTL
            _slots.Release();
            Wake();
        }
    }

    /// <summary>Stops the run here when a replica that does not hold it was asked to cancel it.</summary>
    private async Task WatchCancelRequestAsync(RunEntry entry, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (await state.GetAsync(StateRunStore.Key(entry.Id, "cancel"), token).ConfigureAwait(false) is not null)
                {
                    entry.CancelRequested = true;
                    await entry.Cts!.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                logger.LogWarning(e, "Run {RunId}: reading its cancel request failed", entry.Id);
            }

            await Task.Delay(options.RunPollInterval, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task MarkCancelledAsync(RunEntry entry, FencedRunStore fenced)
    {
        try
        {
            await GenerationRun.CancelAsync(fenced, entry.Id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RunLeaseLostException e)
        {
            logger.LogWarning("Run {RunId}: {Message}", entry.Id, e.Message);
        }

        await RefreshAsync(entry, CancellationToken.None, own: true).ConfigureAwait(false);
    }

    private async Task MarkFailedAsync(RunEntry entry, FencedRunStore fenced, string reason)
    {
        try
        {
            if (await store.LoadCheckpointAsync(entry.Id, CancellationToken.None).ConfigureAwait(false) is { } checkpoint)
            {
                await fenced.SaveCheckpointAsync(entry.Id, checkpoint with { Status = RunStatus.Failed, Error = reason, UpdatedAt = time.GetUtcNow() }, CancellationToken.None).ConfigureAwait(false);
            }

            await RefreshAsync(entry, CancellationToken.None, own: true).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Run {RunId}: could not record the failure", entry.Id);
        }
    }

    /// <summary>
    /// Publishes the stored checkpoint to the entry's watchers when it changed (<paramref name="own"/>: the run's
    /// own task recording its end; otherwise only for runs not active here, which publish their own progress).
    /// </summary>
    private async Task<RunCheckpoint?> RefreshAsync(RunEntry entry, CancellationToken cancellationToken, bool own = false)
    {
        var checkpoint = await store.LoadCheckpointAsync(entry.Id, cancellationToken).ConfigureAwait(false);
        if (checkpoint is not null && (own || (checkpoint.UpdatedAt != entry.StoredUpdatedAt && !entry.IsActive)))
        {
            entry.StoredUpdatedAt = checkpoint.UpdatedAt;
            entry.Publish(RunMapper.FromCheckpoint(entry.Id, entry.Request, checkpoint, entry.OutputDir));
        }

        return checkpoint;
    }

    /// <summary>The entry of a stored run, or null (with a log line) when it is unreadable or incomplete.</summary>
    private async Task<RunEntry?> TryLoadEntryAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await LoadStoredAsync(id, cancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                logger.LogWarning("Run {RunId} is incomplete in the state store (request, spec or checkpoint missing); skipped", id);
            }

            return entry;
        }
        catch (Exception e) when (e is GeneratorInputException or Google.Protobuf.InvalidProtocolBufferException or System.Text.Json.JsonException)
        {
            // One unreadable run must not keep the service (and every other run) from starting.
            logger.LogError(e, "Run {RunId} is unreadable in the state store; skipped", id);
            return null;
        }
    }

    /// <summary>Waits for a run that another replica is creating (it holds the lease) to appear in the store.</summary>
    private async Task<RunEntry> WaitForStoredAsync(string runId, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.LeaseTtl;
        while (true)
        {
            if (await LoadStoredAsync(runId, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                return entry;
            }

            if (time.GetUtcNow() >= deadline)
            {
                throw new GeneratorInputException($"Run '{runId}' is being created by another replica and did not appear within {options.LeaseTtl}; retry.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A run created by another replica (or before this process loaded the store).</summary>
    private async Task<RunEntry?> LoadStoredAsync(string runId, CancellationToken cancellationToken)
    {
        if (!IsValidId(runId))
        {
            return null;
        }

        var request = await requests.LoadAsync(runId, cancellationToken).ConfigureAwait(false);
        var spec = await store.LoadSpecAsync(runId, cancellationToken).ConfigureAwait(false);
        var checkpoint = await store.LoadCheckpointAsync(runId, cancellationToken).ConfigureAwait(false);
        if (request is null || spec is null || checkpoint is null)
        {
            return null;
        }

        return _runs.GetOrAdd(runId, _ => new RunEntry(runId, request, checkpoint.CreatedAt, spec.OutputDir, RunMapper.FromCheckpoint(runId, request, checkpoint, spec.OutputDir))
        {
            StoredUpdatedAt = checkpoint.UpdatedAt,
        });
    }

    private static bool IsValidId(string runId) =>
        runId.Length is > 0 and <= 100 && runId[0] != '.' && runId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
