using Alpaca.Llm.IO.Exports;
using Alpaca.State;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// A job's export fence under the runner's lease: confirmations are fenced writes of the job's export record
/// (<see cref="JobRepository.ConfirmExportAsync"/>), reads are plain, and the lease's token names the export
/// generations, so the newest holder's outlive an older one's.
/// </summary>
public sealed class JobExportFence(JobRepository jobs, string jobId, HeldLease lease) : IExportFence
{
    public long FencingToken => lease.Lease.FencingToken;

    public Task ConfirmAsync(ExportManifest manifest, CancellationToken cancellationToken) => jobs.ConfirmExportAsync(jobId, lease, manifest, cancellationToken);

    public Task<ExportManifest?> ReadConfirmedAsync(CancellationToken cancellationToken) => jobs.LoadExportAsync(jobId, cancellationToken);
}
