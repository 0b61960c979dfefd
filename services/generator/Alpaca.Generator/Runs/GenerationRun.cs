using System.Security.Cryptography;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Export;
using Alpaca.Generator.Parsing;
using Alpaca.Generator.Teacher;
using Alpaca.Llm.IO.Exports;

namespace Alpaca.Generator.Runs;

/// <summary>
/// One generation run, resumable: rounds of <c>request_batch_size</c> prompts go to the teacher, several in
/// flight; each answered round is parsed and filtered, checkpointed, deduplicated and its kept records
/// appended, until exactly <c>num_instructions</c> are kept. Then regen.json and alpaca_data.json are
/// written and the dataset-published event goes out.
///
/// Durability, per round (processed one at a time, in the order rounds are answered):
/// <list type="number">
/// <item>checkpoint := {counters, pending = the round's candidates}, atomically;</item>
/// <item>dedup decides the candidates (idempotent by candidate id);</item>
/// <item>kept candidates not already in the kept log are appended (fsync), never beyond the target;</item>
/// <item>checkpoint := {counters + the round, pending = none}.</item>
/// </list>
/// A crash anywhere replays the pending round on restart: the same ids get the same verdicts and ids
/// already in the log are not appended again, so nothing accepted is lost or duplicated. Rounds in flight
/// but not yet answered are simply asked again under new numbers (their tokens are lost).
/// </summary>
public sealed class GenerationRun
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromMinutes(1);

    private readonly IRunStore _store;
    private readonly ITeacherClient _teacher;
    private readonly IInstructionDeduplicator _dedup;
    private readonly IDatasetPublisher _publisher;
    private readonly TimeProvider _time;
    private readonly Random _seedSource = new();

    private SelfInstructRunSpec _spec = null!;
    private RunCheckpoint _checkpoint = new();
    private RunCounters _counters = new();
    private List<KeptRecord> _kept = [];
    private HashSet<string> _keptIds = new(StringComparer.Ordinal);
    private RoundBuilder _rounds = null!;
    private long _nextRound;
    private int _inFlight;
    private DateTimeOffset _sessionStart;
    private long _keptAtSessionStart;
    private DateTimeOffset _lastExport;
    private string? _regenPath;
    private string? _datasetPath;
    private int _running;

    public GenerationRun(IRunStore store, ITeacherClient teacher, IInstructionDeduplicator dedup, IDatasetPublisher? publisher = null, TimeProvider? time = null)
    {
        (_store, _teacher, _dedup) = (store, teacher, dedup);
        _publisher = publisher ?? NoDatasetPublisher.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Fires when this process no longer owns the run (a replica that lost the run's lease): from then on it
    /// must not rewrite the exports either, which the replica that took over owns. Checked before each export is
    /// written; the fenced <see cref="IRunStore.ConfirmExportAsync"/> before its rename refuses a holder that has not
    /// noticed yet (paused past its lease's expiry).
    /// </summary>
    public CancellationToken Deposed { get; init; }

    /// <summary>Raised after every change (on the run's own flow; keep handlers short).</summary>
    public event Action<RunProgress>? ProgressChanged;

    /// <summary>The latest snapshot (null before the run was loaded).</summary>
    public RunProgress? Current { get; private set; }

    /// <summary>
    /// Creates the run (or resumes the stored one with that id) and runs it to the end. Returns the final
    /// snapshot: Succeeded, Failed (with the reason) or Cancelled. Cancelling <paramref name="cancellationToken"/>
    /// stops it where it is (the exports are brought up to date) and leaves it resumable.
    /// </summary>
    public async Task<RunProgress> RunAsync(SelfInstructRunSpec requested, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("This run object is already running.");
        }

        try
        {
            requested.Validate();
            await LoadOrCreateAsync(requested, cancellationToken).ConfigureAwait(false);
            await ReconcileExportAsync(cancellationToken).ConfigureAwait(false);
            switch (_checkpoint.Status)
            {
                case RunStatus.Succeeded:
                    if (!_checkpoint.Published)
                    {
                        await PublishAsync(cancellationToken).ConfigureAwait(false);
                    }

                    return Report();
                case RunStatus.Cancelled:
                    return Report();
            }

            await RebuildDedupAsync(cancellationToken).ConfigureAwait(false);
            await SaveAsync(RunStatus.Running, null).ConfigureAwait(false);
            if (_checkpoint.Pending is { } pending)
            {
                await ApplyAsync(pending, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                var failure = await GenerateAsync(cancellationToken).ConfigureAwait(false);
                return failure is null
                    ? await CompleteAsync(cancellationToken).ConfigureAwait(false)
                    : await FailAsync(failure, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped, not finished: bring the exports up to date so the user has what was kept.
                await ExportAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Marks a stored run cancelled (a running instance should also have its token cancelled).</summary>
    public static async Task<bool> CancelAsync(IRunStore store, string runId, CancellationToken cancellationToken = default)
    {
        var stored = await store.LoadAsync(runId, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Checkpoint.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled)
        {
            return false;
        }

        await store.SaveCheckpointAsync(runId, stored.Checkpoint with { Status = RunStatus.Cancelled, UpdatedAt = DateTimeOffset.UtcNow }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task LoadOrCreateAsync(SelfInstructRunSpec requested, CancellationToken cancellationToken)
    {
        var stored = await _store.LoadAsync(requested.RunId, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        if (stored is null)
        {
            _spec = requested with { Seed = requested.Seed ?? (ulong)_seedSource.NextInt64() };
            _checkpoint = new RunCheckpoint { Status = RunStatus.Queued, CreatedAt = now, UpdatedAt = now };
            await _store.CreateAsync(_spec, _checkpoint, cancellationToken).ConfigureAwait(false);
            _kept = [];
        }
        else
        {
            SpecCompatibility.EnsureResumable(stored.Spec, requested);

            // What defines the data comes from the stored run; how to run it may change between sessions.
            _spec = stored.Spec with
            {
                Sampling = requested.Sampling,
                Concurrency = requested.Concurrency,
                UnreachableBudget = requested.UnreachableBudget,
                PauseDelay = requested.PauseDelay,
                ExportInterval = requested.ExportInterval,
                MaxBarrenRounds = requested.MaxBarrenRounds,
                PromptPricePer1K = requested.PromptPricePer1K,
                CompletionPricePer1K = requested.CompletionPricePer1K,
                Teacher = requested.Teacher,
            };
            _checkpoint = stored.Checkpoint;
            _kept = [.. stored.Kept];
        }

        _keptIds = new HashSet<string>(_kept.Select(k => k.CandidateId), StringComparer.Ordinal);
        _counters = _checkpoint.Counters.Clone();
        _counters.Kept = _kept.Count;
        _nextRound = Math.Max(_checkpoint.NextRound, (_checkpoint.Pending?.Round ?? -1) + 1);
        _rounds = new RoundBuilder(_spec, _teacher.Api);
        _sessionStart = _lastExport = now;
        _keptAtSessionStart = _kept.Count;
        Report();
    }

    /// <summary>
    /// Makes the dedup namespace hold seeds + kept records in order. A durable dedup service already has them
    /// and answers these idempotent resubmissions from its log; a fresh in-process pool re-decides them in
    /// the same order (they were all kept, so they are kept again).
    /// </summary>
    private async Task RebuildDedupAsync(CancellationToken cancellationToken)
    {
        await _dedup.EnsureNamespaceAsync(_spec.DedupNamespace, [.. _spec.Seeds.Select(s => s.Instruction)], cancellationToken).ConfigureAwait(false);
        foreach (var chunk in _kept.Chunk(1000))
        {
            await _dedup.SubmitAsync(
                _spec.DedupNamespace,
                [.. chunk.Select(k => new CandidateInstruction(k.CandidateId, k.Instruction, k.Input, k.Output))],
                withExtras: false,
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The round loop; returns null when the target is reached, else why the run failed.</summary>
    private async Task<string?> GenerateAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new Dictionary<Task<TeacherBatch>, long>();
        var retry = new Queue<(long Round, TimeSpan Delay)>();
        DateTimeOffset? unreachableSince = null;
        var consecutiveFailures = 0;
        var barren = 0;
        try
        {
            while (_kept.Count < _spec.NumInstructions)
            {
                while (inFlight.Count < _spec.Concurrency)
                {
                    var (round, delay) = retry.Count > 0 ? retry.Dequeue() : (_nextRound++, TimeSpan.Zero);
                    inFlight[FetchAsync(round, delay, stop.Token)] = round;
                }

                _inFlight = inFlight.Count;
                Report();
                var done = await Task.WhenAny(inFlight.Keys).ConfigureAwait(false);
                var answered = inFlight[done];
                inFlight.Remove(done);
                cancellationToken.ThrowIfCancellationRequested();

                TeacherBatch batch;
                try
                {
                    batch = await done.ConfigureAwait(false);
                }
                catch (TeacherUnavailableException e)
                {
                    var now = _time.GetUtcNow();
                    unreachableSince ??= now;
                    consecutiveFailures++;
                    _counters.FailedRounds++;
                    if (now - unreachableSince.Value >= _spec.UnreachableBudget)
                    {
                        return $"The teacher stayed unreachable for {(now - unreachableSince.Value).TotalSeconds:0.#} s (budget {_spec.UnreachableBudget.TotalSeconds:0.#} s): {e.Message}";
                    }

                    await SaveAsync(RunStatus.Paused, e.Message).ConfigureAwait(false);
                    retry.Enqueue((answered, PauseFor(consecutiveFailures)));
                    continue;
                }
                catch (TeacherRejectedException e)
                {
                    return e.Message;
                }

                if (consecutiveFailures > 0 || _checkpoint.Status != RunStatus.Running)
                {
                    (unreachableSince, consecutiveFailures) = (null, 0);
                    await SaveAsync(RunStatus.Running, null).ConfigureAwait(false);
                }

                var pending = _rounds.Parse(answered, batch);
                barren = pending.Delta.Generated == 0 ? barren + 1 : 0;
                _checkpoint = _checkpoint with { NextRound = Math.Max(_checkpoint.NextRound, answered + 1), Pending = pending };
                await SaveAsync(_checkpoint.Status, _checkpoint.Error).ConfigureAwait(false);
                await ApplyAsync(pending, cancellationToken).ConfigureAwait(false);
                if (barren >= _spec.MaxBarrenRounds)
                {
                    return $"The teacher's last {barren} rounds gave no parseable item (garbage replies so far: {_counters.GarbageReplies}); check the teacher URL, model and API.";
                }

                if (_time.GetUtcNow() - _lastExport >= _spec.ExportInterval)
                {
                    await ExportAsync().ConfigureAwait(false);
                }
            }

            return null;
        }
        finally
        {
            // Rounds still in flight are not needed (target reached) or cannot be used (stopping).
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var task in inFlight.Keys)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Cancelled or failed after the fact; nothing of it was used.
                }
            }

            _inFlight = 0;
        }
    }

    private async Task<TeacherBatch> FetchAsync(long round, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }

        return await _teacher.CompleteAsync(_rounds.Prompts(round), _spec.Sampling, cancellationToken).ConfigureAwait(false);
    }

    private TimeSpan PauseFor(int consecutiveFailures)
    {
        var ms = _spec.PauseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(consecutiveFailures - 1, 20));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxPause.TotalMilliseconds));
    }

    /// <summary>Steps 2–4 of a round: dedup, append what is new and within the target, commit the counters.</summary>
    private async Task ApplyAsync(PendingRound pending, CancellationToken cancellationToken)
    {
        var verdicts = pending.Candidates.Count == 0
            ? []
            : await _dedup.SubmitAsync(_spec.DedupNamespace, pending.Candidates, _spec.DedupExtras, cancellationToken).ConfigureAwait(false);
        if (verdicts.Length != pending.Candidates.Count)
        {
            throw new InvalidOperationException($"The deduplicator answered {verdicts.Length} verdicts for {pending.Candidates.Count} candidates.");
        }

        var delta = pending.Delta.Clone();
        var append = new List<KeptRecord>();
        for (var i = 0; i < verdicts.Length; i++)
        {
            var candidate = pending.Candidates[i];
            var verdict = verdicts[i];
            if (verdict.CandidateId != candidate.CandidateId)
            {
                throw new InvalidOperationException($"The deduplicator answered for '{verdict.CandidateId}' where '{candidate.CandidateId}' was asked.");
            }

            if (!verdict.Kept)
            {
                delta.Reject(RejectionReason.RougeDuplicate.Key());
            }
            else if (_keptIds.Contains(candidate.CandidateId))
            {
                // Appended before a crash; the replay must not add it twice.
            }
            else if (_kept.Count + append.Count >= _spec.NumInstructions)
            {
                delta.Surplus++;
            }
            else
            {
                append.Add(new KeptRecord(
                    candidate.CandidateId,
                    candidate.Instruction,
                    candidate.Input,
                    candidate.Output,
                    _spec.DedupExtras ? verdict.MostSimilarInstructions : null,
                    _spec.DedupExtras ? verdict.AvgSimilarityScore : null));
            }
        }

        await _store.AppendKeptAsync(_spec.RunId, append, cancellationToken).ConfigureAwait(false);
        foreach (var record in append)
        {
            _kept.Add(record);
            _keptIds.Add(record.CandidateId);
        }

        _counters.Add(delta);
        _counters.Kept = _kept.Count;
        _checkpoint = _checkpoint with { Pending = null, NextRound = Math.Max(_checkpoint.NextRound, pending.Round + 1) };
        await SaveAsync(_checkpoint.Status, _checkpoint.Error).ConfigureAwait(false);
    }

    private async Task<RunProgress> CompleteAsync(CancellationToken cancellationToken)
    {
        var sha = await ExportAsync().ConfigureAwait(false);
        _checkpoint = _checkpoint with { DatasetId = $"ds-{_spec.RunId}", DatasetSha256 = sha };
        await SaveAsync(RunStatus.Succeeded, null).ConfigureAwait(false);
        await PublishAsync(cancellationToken).ConfigureAwait(false);
        return Report();
    }

    private async Task<RunProgress> FailAsync(string reason, CancellationToken cancellationToken)
    {
        await ExportAsync().ConfigureAwait(false);
        await SaveAsync(RunStatus.Failed, reason).ConfigureAwait(false);
        return Report();
    }

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        var (regen, dataset) = Paths();
        var sha = _checkpoint.DatasetSha256 ?? Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(dataset, cancellationToken).ConfigureAwait(false)));
        await _publisher.PublishAsync(
            new DatasetPublication(_checkpoint.DatasetId ?? $"ds-{_spec.RunId}", _spec.RunId, dataset, regen, _kept.Count, sha, _time.GetUtcNow()),
            cancellationToken).ConfigureAwait(false);
        _checkpoint = _checkpoint with { Published = true };
        await SaveAsync(_checkpoint.Status, _checkpoint.Error).ConfigureAwait(false);
    }

    /// <summary>
    /// Rewrites regen.json and alpaca_data.json from the kept log; returns the dataset's SHA-256. The files are
    /// written into a generation folder of their own and put in place only once the store confirmed this run may
    /// still write them (the lease's fencing token, <see cref="IRunStore.ConfirmExportAsync"/>, which records the
    /// generation and the files' hashes): a replica deposed while it wrote them deletes its copies and leaves the new
    /// holder's in place; one frozen between the confirmation and the renames re-reads the confirmed record after
    /// them, puts the newer export back and stops (<see cref="ExportSupersededException"/>).
    /// </summary>
    private async Task<string> ExportAsync()
    {
        Deposed.ThrowIfCancellationRequested();
        using var staged = DatasetFiles.Stage(_spec.OutputDir, _kept, _store.FencingToken);
        await staged.CommitAsync(new RunExportFence(_store, _spec.RunId), CancellationToken.None).ConfigureAwait(false);
        (_regenPath, _datasetPath, _lastExport) = (staged.RegenPath, staged.DatasetPath, _time.GetUtcNow());
        return staged.DatasetSha256;
    }

    /// <summary>
    /// Before a (resumed) run goes on, its output folder is made to hold the newest confirmed export: a holder that
    /// died or was deposed after renaming stale files over it leaves them there, and the generation kept under
    /// <c>.exports/</c> puts the confirmed files back. A confirmed generation that is gone (removed by hand) is left to
    /// the run's next export, which rewrites both files.
    /// </summary>
    private async Task ReconcileExportAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ExportFolder.ReconcileAsync(_spec.OutputDir, new RunExportFence(_store, _spec.RunId), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (ExportMissingException)
        {
            // Nothing to put back; the next export replaces the files (and consumers check them by their SHA-256).
        }
    }

    private (string Regen, string Dataset) Paths() =>
        (_regenPath ?? Path.Combine(_spec.OutputDir, DatasetFiles.RegenFileName), _datasetPath ?? Path.Combine(_spec.OutputDir, DatasetFiles.DatasetFileName));

    private async Task SaveAsync(RunStatus status, string? error)
    {
        _checkpoint = _checkpoint with { Status = status, Error = error, Counters = _counters.Clone(), UpdatedAt = _time.GetUtcNow() };

        // The checkpoint must reach the disk even when the caller is stopping, or a replay loses the round.
        await _store.SaveCheckpointAsync(_spec.RunId, _checkpoint, CancellationToken.None).ConfigureAwait(false);
        Report();
    }

    private RunProgress Report()
    {
        var now = _time.GetUtcNow();
        var minutes = (now - _sessionStart).TotalMinutes;
        var keptThisSession = _kept.Count - _keptAtSessionStart;
        var rate = minutes > 0 && keptThisSession > 0 ? keptThisSession / minutes : 0;
        var remaining = _spec.NumInstructions - _kept.Count;
        var (regen, dataset) = Paths();
        var progress = new RunProgress
        {
            RunId = _spec.RunId,
            Status = _checkpoint.Status,
            Error = _checkpoint.Error,
            Target = _spec.NumInstructions,
            Kept = _kept.Count,
            Rounds = _counters.Rounds,
            Generated = _counters.Generated,
            RejectedByReason = new Dictionary<string, long>(_counters.RejectedByReason),
            CleanedByReason = new Dictionary<string, long>(_counters.CleanedByReason),
            PromptTokens = _counters.PromptTokens,
            CompletionTokens = _counters.CompletionTokens,
            EstimatedCost = _spec.EstimateCost(_counters.PromptTokens, _counters.CompletionTokens),
            TeacherRetries = _counters.TeacherRetries,
            ContextShrinks = _counters.ContextShrinks,
            GarbageReplies = _counters.GarbageReplies,
            FailedRounds = _counters.FailedRounds,
            Surplus = _counters.Surplus,
            RoundsInFlight = _inFlight,
            KeptPerMinute = rate,
            Eta = rate > 0 ? TimeSpan.FromMinutes(Math.Max(0, remaining) / rate) : remaining <= 0 ? TimeSpan.Zero : null,
            RegenPath = regen,
            DatasetPath = dataset,
            DatasetId = _checkpoint.DatasetId,
        };
        Current = progress;
        ProgressChanged?.Invoke(progress);
        return progress;
    }
}
