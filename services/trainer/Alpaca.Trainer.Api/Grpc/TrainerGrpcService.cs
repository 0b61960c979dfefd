using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Confinement;
using Alpaca.Trainer.Api.Jobs;
using Grpc.Core;

namespace Alpaca.Trainer.Api.Grpc;

/// <summary>The trainer contract over the job manager: errors are the caller's (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION).</summary>
public sealed class TrainerGrpcService(JobManager manager, JobUpdates updates) : TrainerService.TrainerServiceBase
{
    public override async Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        try
        {
            var (job, _) = await manager.SubmitAsync(request.Spec, request.JobId, context.CancellationToken).ConfigureAwait(false);
            return new SubmitJobResponse { Job = job };
        }
        catch (JobSpecException e)
        {
            throw GrpcErrors.InvalidArgument(e.Message);
        }
        catch (PathConfinementException e)
        {
            throw e.ToRpc();
        }
    }

    public override async Task<GetJobResponse> GetJob(GetJobRequest request, ServerCallContext context) =>
        new() { Job = await Find(request.JobId, context.CancellationToken).ConfigureAwait(false) };

    public override async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        try
        {
            var (jobs, next) = await manager.ListAsync(request.PageSize, request.PageToken, context.CancellationToken).ConfigureAwait(false);
            var response = new ListJobsResponse { NextPageToken = next };
            response.Jobs.AddRange(jobs);
            return response;
        }
        catch (JobSpecException e)
        {
            throw GrpcErrors.InvalidArgument(e.Message);
        }
    }

    public override async Task<CancelJobResponse> CancelJob(CancelJobRequest request, ServerCallContext context)
    {
        var job = await manager.CancelAsync(request.JobId, context.CancellationToken).ConfigureAwait(false)
            ?? throw GrpcErrors.NotFound($"No job '{request.JobId}'.");
        return job.State is JobState.Succeeded or JobState.Failed
            ? throw GrpcErrors.FailedPrecondition($"Job '{job.Id}' already ended as {JobStates.Name(job.State)}; there is nothing to cancel.")
            : new CancelJobResponse { Job = job };
    }

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<WatchJobResponse> responseStream, ServerCallContext context)
    {
        // Subscribe before reading the snapshot, so no change falls between the two.
        using var subscription = updates.Subscribe(request.JobId);
        var job = await Find(request.JobId, context.CancellationToken).ConfigureAwait(false);
        await responseStream.WriteAsync(new WatchJobResponse { Job = job }, context.CancellationToken).ConfigureAwait(false);
        if (JobStates.IsTerminal(job.State))
        {
            return;
        }

        await foreach (var update in subscription.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            if (update.UpdatedAt < job.UpdatedAt)
            {
                continue; // older than the snapshot already sent
            }

            await responseStream.WriteAsync(new WatchJobResponse { Job = update }, context.CancellationToken).ConfigureAwait(false);
            if (JobStates.IsTerminal(update.State))
            {
                return;
            }
        }
    }

    private async Task<Job> Find(string jobId, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(jobId) && await manager.GetAsync(jobId, cancellationToken).ConfigureAwait(false) is { } job)
        {
            return job;
        }

        // DATA_LOSS, not NOT_FOUND: the job existed, but its record is corrupt; the caller must not resubmit blindly.
        if (!string.IsNullOrEmpty(jobId) && await manager.QuarantinedAsync(jobId, cancellationToken).ConfigureAwait(false) is { } bad)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, $"Job '{jobId}' has an unreadable record ({bad.Reason}); it was moved to state key '{bad.QuarantineKey}'."));
        }

        throw GrpcErrors.NotFound($"No job '{jobId}'.");
    }
}
