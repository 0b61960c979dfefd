using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;
using Grpc.Core;

namespace Alpaca.Generator.Api.Grpc;

/// <summary>The generator gRPC contract. Until the generation engine lands every method answers
/// UNIMPLEMENTED naming what is missing.</summary>
public sealed class GeneratorGrpcService : GeneratorService.GeneratorServiceBase
{
    private const string Missing = "the Self-Instruct generation engine (services/generator) has not landed";

    public override Task<StartRunResponse> StartRun(StartRunRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(StartRun), Missing);

    public override Task<GetRunResponse> GetRun(GetRunRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(GetRun), Missing);

    public override Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ListRuns), Missing);

    public override Task<CancelRunResponse> CancelRun(CancelRunRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(CancelRun), Missing);

    public override Task WatchRun(WatchRunRequest request, IServerStreamWriter<WatchRunResponse> responseStream, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(WatchRun), Missing);
}
