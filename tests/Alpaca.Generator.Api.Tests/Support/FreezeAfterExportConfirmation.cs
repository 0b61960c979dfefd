using Alpaca.Generator.Runs;
using Alpaca.Llm.IO.Exports;

namespace Alpaca.Generator.Api.Tests.Support;

/// <summary>
/// The test hook for the gap between an export's fenced confirmation and its renames: a run store whose
/// <see cref="IRunStore.ConfirmExportAsync"/>, once the real (fenced) confirmation succeeded, waits until the test
/// thaws it, as a holder frozen exactly there (a GC pause, SIGSTOP) would. Every other call goes straight through.
/// </summary>
public sealed class FreezeAfterExportConfirmation(IRunStore inner) : IRunStore
{
    private readonly TaskCompletionSource _confirmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _thaw = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once an export was confirmed and the holder froze.</summary>
    public Task Confirmed => _confirmed.Task;

    public void Thaw() => _thaw.TrySetResult();

    public long FencingToken => inner.FencingToken;

    public async Task ConfirmExportAsync(string runId, ExportManifest export, CancellationToken cancellationToken = default)
    {
        await inner.ConfirmExportAsync(runId, export, cancellationToken);
        _confirmed.TrySetResult();
        await _thaw.Task;
    }

    public Task<ExportManifest?> LoadExportAsync(string runId, CancellationToken cancellationToken = default) => inner.LoadExportAsync(runId, cancellationToken);

    public Task<StoredRun?> LoadAsync(string runId, CancellationToken cancellationToken = default) => inner.LoadAsync(runId, cancellationToken);

    public Task CreateAsync(SelfInstructRunSpec spec, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) => inner.CreateAsync(spec, checkpoint, cancellationToken);

    public Task SaveCheckpointAsync(string runId, RunCheckpoint checkpoint, CancellationToken cancellationToken = default) => inner.SaveCheckpointAsync(runId, checkpoint, cancellationToken);

    public Task AppendKeptAsync(string runId, IReadOnlyList<KeptRecord> records, CancellationToken cancellationToken = default) => inner.AppendKeptAsync(runId, records, cancellationToken);

    public Task<IReadOnlyList<string>> ListRunIdsAsync(CancellationToken cancellationToken = default) => inner.ListRunIdsAsync(cancellationToken);
}
