using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;
using Grpc.Core;

namespace Alpaca.Trainer.Api.Grpc;

/// <summary>The trainer gRPC contract. Until the TorchSharp trainer lands every method answers
/// UNIMPLEMENTED naming what is missing.</summary>
public sealed class TrainerGrpcService : TrainerService.TrainerServiceBase
{
    private const string Missing = "the TorchSharp fine-tuning engine (services/trainer) has not landed";

    public override Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(SubmitJob), Missing);

    public override Task<GetJobResponse> GetJob(GetJobRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(GetJob), Missing);

    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ListJobs), Missing);

    public override Task<CancelJobResponse> CancelJob(CancelJobRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(CancelJob), Missing);

    public override Task WatchJob(WatchJobRequest request, IServerStreamWriter<WatchJobResponse> responseStream, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(WatchJob), Missing);
}
