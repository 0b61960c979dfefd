using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults;
using Grpc.Core;

namespace Alpaca.Inference.Api.Grpc;

/// <summary>The inference gRPC contract. Liveness is real; everything that needs the engine answers
/// UNIMPLEMENTED naming what is missing until the inference issue lands.</summary>
public sealed class InferenceGrpcService : InferenceService.InferenceServiceBase
{
    private const string Missing = "the quantized CPU inference engine and scheduler (services/inference) have not landed";

    public override Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(Generate), Missing);

    public override Task<CompleteResponse> Complete(CompleteRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(Complete), Missing);

    public override Task<TokenizeResponse> Tokenize(TokenizeRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(Tokenize), Missing);

    public override Task<DetokenizeResponse> Detokenize(DetokenizeRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(Detokenize), Missing);

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ListModels), Missing);

    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(GetModelInfo), Missing);

    public override Task<LoadModelResponse> LoadModel(LoadModelRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(LoadModel), Missing);

    public override Task<UnloadModelResponse> UnloadModel(UnloadModelRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(UnloadModel), Missing);

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) => Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ServerReady), Missing);

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) => throw GrpcErrors.Unimplemented(nameof(ModelReady), Missing);
}
