using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;
using Grpc.Core;

namespace Alpaca.Dedup.Api.Grpc;

/// <summary>The dedup gRPC contract. The ROUGE-L engine lands with the dedup issue; until then every
/// method answers UNIMPLEMENTED naming what is missing.</summary>
public sealed class DedupGrpcService : DedupService.DedupServiceBase
{
    private const string Missing = "the exact ROUGE-L dedup engine (services/dedup) has not landed";

    public override Task<ScorePairResponse> ScorePair(ScorePairRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ScorePair), Missing);

    public override Task<CreateNamespaceResponse> CreateNamespace(CreateNamespaceRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(CreateNamespace), Missing);

    public override Task<GetNamespaceResponse> GetNamespace(GetNamespaceRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(GetNamespace), Missing);

    public override Task<ListNamespacesResponse> ListNamespaces(ListNamespacesRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ListNamespaces), Missing);

    public override Task<DeleteNamespaceResponse> DeleteNamespace(DeleteNamespaceRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(DeleteNamespace), Missing);

    public override Task<CheckCandidatesResponse> CheckCandidates(CheckCandidatesRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(CheckCandidates), Missing);

    public override Task<SubmitCandidatesResponse> SubmitCandidates(SubmitCandidatesRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(SubmitCandidates), Missing);

    public override Task StreamCandidates(IAsyncStreamReader<StreamCandidatesRequest> requestStream, IServerStreamWriter<StreamCandidatesResponse> responseStream, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(StreamCandidates), Missing);

    public override Task<ListPoolResponse> ListPool(ListPoolRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ListPool), Missing);
}
