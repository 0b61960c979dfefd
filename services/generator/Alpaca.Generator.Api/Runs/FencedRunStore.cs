using Alpaca.Generator.Runs;
using Alpaca.Llm.IO.Exports;
using Alpaca.State;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// The <see cref="IRunStore"/> a replica runs one run through while it holds the run's lease: the checkpoint
/// (progress, pending round, status), every kept-log append and the confirmation before each export is renamed into
/// place (<see cref="IRunStore.ConfirmExportAsync"/>) are fenced by the lease's token, so once another
/// replica has taken the run over, this holder's late writes are refused (<see cref="RunLeaseLostException"/>)
/// instead of doubling records or rolling the new owner's progress back. Reads are plain.
/// <paramref name="lease"/> gives the lease as last renewed (<see cref="HeldLease.Lease"/>).
/// </summary>
public sealed class FencedRunStore(StateRunStore store, Func<StateLease> lease) : IRunStore
{
    public FencedRunStore(StateRunStore store, HeldLease held)
        : this(store, () => held.Lease)
    {
    }

    public Task<StoredRun?> LoadAsync(string runId, CancellationToken cancellationToken = default) => store.LoadAsync(runId, cancellationToken);

    public Task CreateAsync(SelfInstructRunSpec spec, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) =>
        store.CreateAsync(spec, checkpoint, lease(), cancellationToken);

    public Task SaveCheckpointAsync(string runId, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) =>
        store.SaveCheckpointAsync(runId, checkpoint, lease(), cancellationToken);

    public Task AppendKeptAsync(string runId, IReadOnlyList<KeptRecord> records, CancellationToken cancellationToken = default) =>
        store.AppendKeptAsync(runId, records, lease(), cancellationToken);

    public Task ConfirmExportAsync(string runId, ExportManifest export, CancellationToken cancellationToken = default) =>
        store.ConfirmExportAsync(runId, export, lease(), cancellationToken);

    public Task<ExportManifest?> LoadExportAsync(string runId, CancellationToken cancellationToken = default) => store.LoadExportAsync(runId, cancellationToken);

    /// <summary>The lease's token: this holder's export generations are named by it, so a later holder's outlive them.</summary>
    public long FencingToken => lease().FencingToken;

    public Task<IReadOnlyList<string>> ListRunIdsAsync(CancellationToken cancellationToken = default) => store.ListRunIdsAsync(cancellationToken);
}
