using System.Collections.Concurrent;
using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Api.Dedup;
using Alpaca.Generator.Api.Metrics;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// Runs generation runs in the background of the service: start (idempotent by run id), get, list, cancel
/// and watch. At most <see cref="GeneratorOptions.MaxActiveRuns"/> generate at once; the others wait as
/// Queued. At service start every stored run is loaded and every unfinished one (queued, running, paused,
/// or succeeded but not yet announced) resumes where its durable state says, so a crash or a redeploy loses
/// nothing. Stopping the service stops the runs without marking them: the next start resumes them.
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
    TimeProvider time,
    ILogger<RunManager> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, RunEntry> _runs = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.MaxActiveRuns));
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var resumed = 0;
        foreach (var id in await store.ListRunIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            RunSpec? request;
            SelfInstructRunSpec? spec;
            RunCheckpoint? checkpoint;
            try
            {
                request = await requests.LoadAsync(id, cancellationToken).ConfigureAwait(false);
                spec = await store.LoadSpecAsync(id, cancellationToken).ConfigureAwait(false);
                checkpoint = await store.LoadCheckpointAsync(id, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is GeneratorInputException or Google.Protobuf.InvalidProtocolBufferException or System.Text.Json.JsonException)
            {
                // One unreadable run must not keep the service (and every other run) from starting.
                logger.LogError(e, "Run {RunId} is unreadable in the state store; skipped", id);
                continue;
            }

            if (request is null || spec is null || checkpoint is null)
            {
                logger.LogWarning("Run {RunId} is incomplete in the state store (request, spec or checkpoint missing); skipped", id);
                continue;
            }

            var entry = new RunEntry(id, request, checkpoint.CreatedAt, spec.OutputDir, RunMapper.FromCheckpoint(id, request, checkpoint, spec.OutputDir));
            _runs[id] = entry;
            if (checkpoint.Status is RunStatus.Queued or RunStatus.Running or RunStatus.Paused || (checkpoint.Status == RunStatus.Succeeded && !checkpoint.Published))
            {
                // What defines the data comes from the stored spec; how to pace it from today's configuration.
                Launch(entry, spec with { PauseDelay = options.PauseDelay, ExportInterval = options.ExportInterval });
                resumed++;
            }
        }

        logger.LogInformation("Generator: {Count} stored runs, {Resumed} resumed", _runs.Count, resumed);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var active = _runs.Values.Select(e => e.Task).OfType<Task>().ToArray();
        await Task.WhenAll(active).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var entry in _runs.Values)
        {
            entry.EndWatches();
        }
    }

    /// <summary>Starts a run, or returns the existing run with that id.</summary>
    public async Task<Run> StartRunAsync(StartRunRequest request, CancellationToken cancellationToken)
    {
        var id = string.IsNullOrEmpty(request.RunId) ? $"run-{time.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}" : request.RunId;
        if (_runs.TryGetValue(id, out var existing))
        {
            return existing.Snapshot;
        }

        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
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

            var now = time.GetUtcNow();
            var checkpoint = new RunCheckpoint { Status = RunStatus.Queued, CreatedAt = now, UpdatedAt = now };

            // The request first: a run whose checkpoint exists can always be resumed.
            await requests.SaveAsync(id, request.Spec, cancellationToken).ConfigureAwait(false);
            await store.CreateAsync(spec, checkpoint, cancellationToken).ConfigureAwait(false);
            var entry = new RunEntry(id, request.Spec, now, spec.OutputDir, RunMapper.FromCheckpoint(id, request.Spec, checkpoint, spec.OutputDir));
            _runs[id] = entry;
            Launch(entry, spec);
            logger.LogInformation("Run {RunId} started: {Target} instructions from {Teacher}", id, spec.NumInstructions, spec.Teacher);
            return entry.Snapshot;
        }
        finally
        {
            _startLock.Release();
        }
    }

    public async Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        (_runs.TryGetValue(runId, out var entry) ? entry : await LoadStoredAsync(runId, cancellationToken).ConfigureAwait(false))?.Snapshot;

    /// <summary>Runs, newest first; the page token is the offset of the next page.</summary>
    public (IReadOnlyList<Run> Runs, string NextPageToken) ListRuns(int pageSize, string pageToken)
    {
        var size = pageSize is > 0 and <= 1000 ? pageSize : 50;
        var offset = int.TryParse(pageToken, out var o) && o > 0 ? o : 0;
        var all = _runs.Values.OrderByDescending(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
        var page = all.Skip(offset).Take(size).Select(e => e.Snapshot).ToList();
        return (page, offset + size < all.Count ? (offset + size).ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
    }

    /// <summary>Cancels a run: null when unknown; a finished run is returned unchanged.</summary>
    public async Task<Run?> CancelRunAsync(string runId, CancellationToken cancellationToken)
    {
        if (!_runs.TryGetValue(runId, out var entry) && (entry = await LoadStoredAsync(runId, cancellationToken).ConfigureAwait(false)) is null)
        {
            return null;
        }

        if (RunMapper.IsTerminal(entry.Snapshot.State))
        {
            return entry.Snapshot;
        }

        entry.CancelRequested = true;
        if (entry.Task is { } task && entry.Cts is { } cts)
        {
            await cts.CancelAsync().ConfigureAwait(false);
            await task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        else
        {
            await MarkCancelledAsync(entry).ConfigureAwait(false);
        }

        return entry.Snapshot;
    }

    /// <summary>The run's entry (for watching), or null when unknown.</summary>
    internal async Task<RunEntry?> FindAsync(string runId, CancellationToken cancellationToken) =>
        _runs.TryGetValue(runId, out var entry) ? entry : await LoadStoredAsync(runId, cancellationToken).ConfigureAwait(false);

    private void Launch(RunEntry entry, SelfInstructRunSpec spec)
    {
        entry.Cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        entry.Task = Task.Run(() => ExecuteAsync(entry, spec, entry.Cts.Token));
    }

    private async Task ExecuteAsync(RunEntry entry, SelfInstructRunSpec spec, CancellationToken token)
    {
        var slot = false;
        try
        {
            await _slots.WaitAsync(token).ConfigureAwait(false);
            slot = true;
            using var teacher = new OpenAiTeacherClient(RunSpecFactory.BuildTeacher(entry.Request, options, teachers));
            var run = new GenerationRun(store, teacher, dedup, publisher, time);
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
        catch (Exception e) when (token.IsCancellationRequested)
        {
            // Cancelled, or the service is stopping: whatever stopped the run's work then (an aborted gRPC
            // call, a cancelled wait) is not the run's failure.
            if (entry.CancelRequested)
            {
                await MarkCancelledAsync(entry).ConfigureAwait(false);
            }
            else
            {
                logger.LogInformation("Run {RunId} stopped with the service ({Reason}); it resumes at the next start", entry.Id, e.GetType().Name);
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Run {RunId} failed", entry.Id);
            await MarkFailedAsync(entry, e.Message).ConfigureAwait(false);
        }
        finally
        {
            if (slot)
            {
                _slots.Release();
            }

            inbox.Forget(spec.DedupNamespace);
        }
    }

    private async Task MarkCancelledAsync(RunEntry entry)
    {
        await GenerationRun.CancelAsync(store, entry.Id, CancellationToken.None).ConfigureAwait(false);
        await RefreshAsync(entry).ConfigureAwait(false);
    }

    private async Task MarkFailedAsync(RunEntry entry, string reason)
    {
        try
        {
            if (await store.LoadCheckpointAsync(entry.Id, CancellationToken.None).ConfigureAwait(false) is { } checkpoint)
            {
                await store.SaveCheckpointAsync(entry.Id, checkpoint with { Status = RunStatus.Failed, Error = reason, UpdatedAt = time.GetUtcNow() }, CancellationToken.None).ConfigureAwait(false);
            }

            await RefreshAsync(entry).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Run {RunId}: could not record the failure", entry.Id);
        }
    }

    private async Task RefreshAsync(RunEntry entry)
    {
        if (await store.LoadCheckpointAsync(entry.Id, CancellationToken.None).ConfigureAwait(false) is { } checkpoint)
        {
            entry.Publish(RunMapper.FromCheckpoint(entry.Id, entry.Request, checkpoint, entry.OutputDir));
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

        return _runs.GetOrAdd(runId, _ => new RunEntry(runId, request, checkpoint.CreatedAt, spec.OutputDir, RunMapper.FromCheckpoint(runId, request, checkpoint, spec.OutputDir)));
    }

    private static bool IsValidId(string runId) =>
        runId.Length is > 0 and <= 100 && runId[0] != '.' && runId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
