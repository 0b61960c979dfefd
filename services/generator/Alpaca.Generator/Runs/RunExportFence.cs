using Alpaca.Llm.IO.Exports;

namespace Alpaca.Generator.Runs;

/// <summary>A run's exports confirmed and read through its <see cref="IRunStore"/> (fenced there by the run's lease, where it has one).</summary>
public sealed class RunExportFence(IRunStore store, string runId) : IExportFence
{
    public long FencingToken => store.FencingToken;

    public Task ConfirmAsync(ExportManifest manifest, CancellationToken cancellationToken) => store.ConfirmExportAsync(runId, manifest, cancellationToken);

    public Task<ExportManifest?> ReadConfirmedAsync(CancellationToken cancellationToken) => store.LoadExportAsync(runId, cancellationToken);
}
