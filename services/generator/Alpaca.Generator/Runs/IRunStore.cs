using Alpaca.Llm.IO.Exports;

namespace Alpaca.Generator.Runs;

/// <summary>A run as stored: what was asked, where it stands, and every kept record in order.</summary>
public sealed record StoredRun(SelfInstructRunSpec Spec, RunCheckpoint Checkpoint, IReadOnlyList<KeptRecord> Kept);

/// <summary>
/// Durable run state. The kept log is append-only and is the truth about what was accepted; the checkpoint
/// (counters, pending round, status) is replaced atomically. <see cref="FileRunStore"/> keeps it in a local
/// folder; the platform stores it through its state abstraction.
/// </summary>
public interface IRunStore
{
    /// <summary>The run, or null when it was never created.</summary>
    Task<StoredRun?> LoadAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Creates a run (replacing the remains of a creation interrupted before its first checkpoint).</summary>
    Task CreateAsync(SelfInstructRunSpec spec, RunCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Replaces the checkpoint atomically.</summary>
    Task SaveCheckpointAsync(string runId, RunCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Appends kept records durably (flushed to disk before the task completes).</summary>
    Task AppendKeptAsync(string runId, IReadOnlyList<KeptRecord> records, CancellationToken cancellationToken = default);

    /// <summary>
    /// The fenced confirmation of an export (regen.json, alpaca_data.json, already written into their generation
    /// folder, <see cref="ExportGeneration"/>) before it is put in place: records <paramref name="export"/> (its
    /// generation and the files' SHA-256) as the run's confirmed export when the caller may still write the run's
    /// files, and throws when it may not, so that a replica deposed from the run's lease never replaces the export of
    /// the replica that took over (<c>FencedRunStore</c>: a fenced write of the export's record). Stores without
    /// leases confirm every export.
    /// </summary>
    Task ConfirmExportAsync(string runId, ExportManifest export, CancellationToken cancellationToken = default);

    /// <summary>The run's newest confirmed export, or null when none was confirmed.</summary>
    Task<ExportManifest?> LoadExportAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>The fencing token of the lease this store writes under (0: no leases); it orders export generations across replicas.</summary>
    long FencingToken => 0;

    /// <summary>Ids of every stored run.</summary>
    Task<IReadOnlyList<string>> ListRunIdsAsync(CancellationToken cancellationToken = default);
}
