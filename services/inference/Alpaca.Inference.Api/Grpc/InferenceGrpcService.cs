using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Models;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Confinement;
using Grpc.Core;

namespace Alpaca.Inference.Api.Grpc;

/// <summary>
/// The inference gRPC contract over the model registry and the continuous-batching schedulers. Refusals
/// are precise (INVALID_ARGUMENT naming the field, NOT_FOUND, FAILED_PRECONDITION, RESOURCE_EXHAUSTED
/// with a <c>retry-after-ms</c> trailer); a client that goes away frees its KV slot within one step.
/// </summary>
public sealed class InferenceGrpcService(ModelRegistry registry, GenerationRunner runner, ModelRoots roots, InferenceOptions options, GenerationLimits limits) : InferenceService.InferenceServiceBase
{
    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var started = await StartAsync(request, context);
        var tokenizer = started.Model.Engine.Tokenizer;
        await foreach (var batch in started.ReadBatchesAsync(context.CancellationToken))
        {
            var (text, tokens, finished) = StartedGeneration.Merge(batch);
            if (text.Length > 0 || tokens.Count > 0)
            {
                var delta = new TextDelta { Text = text };
                delta.Tokens.AddRange(tokens.Select(t => GrpcMapping.ToToken(t, tokenizer)));
                await responseStream.WriteAsync(new GenerateResponse { Delta = delta }, context.CancellationToken);
            }

            if (finished is not null)
            {
                await responseStream.WriteAsync(new GenerateResponse { Result = GrpcMapping.ToResult(finished, started.Model.Name) }, context.CancellationToken);
            }
        }
    }

    public override async Task<CompleteResponse> Complete(CompleteRequest request, ServerCallContext context)
    {
        var started = await StartAsync(request.Request ?? new GenerateRequest(), context);
        var tokenizer = started.Model.Engine.Tokenizer;
        var response = new CompleteResponse();
        var text = new System.Text.StringBuilder();
        await foreach (var batch in started.ReadBatchesAsync(context.CancellationToken))
        {
            var (delta, tokens, finished) = StartedGeneration.Merge(batch);
            text.Append(delta);
            response.Tokens.AddRange(tokens.Select(t => GrpcMapping.ToToken(t, tokenizer)));
            if (finished is not null)
            {
                response.Result = GrpcMapping.ToResult(finished, started.Model.Name);
            }
        }

        response.Text = text.ToString();
        return response;
    }

    public override Task<TokenizeResponse> Tokenize(TokenizeRequest request, ServerCallContext context)
    {
        if (request.Text.Length > limits.MaxTokenizeChars)
        {
            throw GrpcErrors.InvalidArgument($"text has {request.Text.Length} characters; at most {limits.MaxTokenizeChars} are accepted (Alpaca:Inference:Limits:MaxTokenizeChars).");
        }

        var tokenizer = Resolve(request.Model).Engine.Tokenizer;
        var ids = tokenizer.Encode(request.Text, request.HasAddBos ? request.AddBos : tokenizer.AddBosByDefault, request.ParseSpecial);
        var response = new TokenizeResponse();
        response.Ids.AddRange(ids);
        response.Pieces.AddRange(ids.Select(tokenizer.TokenText));
        return Task.FromResult(response);
    }

    public override Task<DetokenizeResponse> Detokenize(DetokenizeRequest request, ServerCallContext context)
    {
        if (request.Ids.Count > limits.MaxTokenizeChars)
        {
            throw GrpcErrors.InvalidArgument($"ids has {request.Ids.Count} entries; at most {limits.MaxTokenizeChars} are accepted (Alpaca:Inference:Limits:MaxTokenizeChars).");
        }

        var tokenizer = Resolve(request.Model).Engine.Tokenizer;
        for (var i = 0; i < request.Ids.Count; i++)
        {
            if ((uint)request.Ids[i] >= (uint)tokenizer.VocabSize)
            {
                throw GrpcErrors.InvalidArgument($"ids[{i}] = {request.Ids[i]} is not a token id (the vocabulary has {tokenizer.VocabSize} tokens).");
            }
        }

        var text = tokenizer.Decode(request.Ids.ToArray(), request.HasSkipSpecial ? request.SkipSpecial : true);
        return Task.FromResult(new DetokenizeResponse { Text = text });
    }

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context)
    {
        var response = new ListModelsResponse();
        response.Models.AddRange(registry.List().Select(Shown));
        return Task.FromResult(response);
    }

    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context)
    {
        var model = Resolve(request.Model);
        return Task.FromResult(new GetModelInfoResponse { Info = Shown(model.Describe(registry.IsDefault(model.Name))) });
    }

    public override async Task<LoadModelResponse> LoadModel(LoadModelRequest request, ServerCallContext context)
    {
        LoadModelValidation.Check(request, limits);

        string path;
        string? draft = null;
        try
        {
            // Before anything looks at the file: a path outside the model roots is refused the same way whether or not it exists.
            path = roots.Paths.Resolve(request.Path, "path");
            if (request.DraftModel.Length > 0)
            {
                draft = roots.Paths.Resolve(request.DraftModel, "draft_model");
            }
        }
        catch (PathConfinementException e)
        {
            throw e.ToRpc();
        }

        try
        {
            var model = await registry.LoadAsync(new LoadSpec(path, request.Name, request.MakeDefault, request.Threads, request.ContextLength, request.Backend, request.Device, request.Dtype, request.ChatTemplate.Length > 0 ? request.ChatTemplate : null, request.KvCacheType.Length > 0 ? request.KvCacheType : null, draft, request.DraftTokens), context.CancellationToken);
            return new LoadModelResponse { Info = Shown(model.Describe(registry.IsDefault(model.Name))) };
        }
        catch (InferenceException e)
        {
            throw GrpcMapping.ToRpc(e);
        }
    }

    public override async Task<UnloadModelResponse> UnloadModel(UnloadModelRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Model))
        {
            throw GrpcErrors.InvalidArgument("model is empty: name the model to unload.");
        }

        return new UnloadModelResponse { Unloaded = await registry.UnloadAsync(request.Model, context.CancellationToken) };
    }

    public override Task<SetDefaultModelResponse> SetDefaultModel(SetDefaultModelRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Model))
        {
            throw GrpcErrors.InvalidArgument("model is empty: name the model to make the default.");
        }

        // Resolve first, so a model still loading or not loaded gets the same precise error as a request naming it.
        var model = Resolve(request.Model);
        if (!registry.TrySetDefault(model.Name))
        {
            throw GrpcErrors.NotFound($"Model '{request.Model}' is not loaded.");
        }

        return Task.FromResult(new SetDefaultModelResponse { Info = Shown(model.Describe(registry.IsDefault(model.Name))) });
    }

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) => Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) => Task.FromResult(new ServerReadyResponse { Ready = registry.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        try
        {
            return Task.FromResult(new ModelReadyResponse { Ready = registry.Resolve(request.Model).State == ModelState.Ready });
        }
        catch (InferenceException)
        {
            return Task.FromResult(new ModelReadyResponse { Ready = false });
        }
    }

    // Callers see a model's file name, not the server's folders, unless the operator turns paths on.
    private ModelInfo Shown(ModelInfo info)
    {
        if (options.ShowModelPaths || string.IsNullOrEmpty(info.Path))
        {
            return info;
        }

        var shown = info.Clone();
        shown.Path = Path.GetFileName(info.Path);
        shown.DraftModel = Path.GetFileName(info.DraftModel);
        return shown;
    }

    private async Task<StartedGeneration> StartAsync(GenerateRequest request, ServerCallContext context)
    {
        try
        {
            return await runner.StartAsync(GrpcMapping.ToSpec(request, context.Deadline), context.CancellationToken, context.GetHttpContext().User);
        }
        catch (InferenceException e)
        {
            throw GrpcMapping.ToRpc(e);
        }
    }

    private ServedModel Resolve(string model)
    {
        try
        {
            return registry.Resolve(model);
        }
        catch (InferenceException e)
        {
            throw GrpcMapping.ToRpc(e);
        }
    }
}
