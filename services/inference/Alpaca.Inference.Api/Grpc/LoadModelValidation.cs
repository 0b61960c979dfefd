using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Models;
using Alpaca.Inference.Model;
using Alpaca.ServiceDefaults;

namespace Alpaca.Inference.Api.Grpc;

/// <summary>
/// LoadModel's arguments, checked before any file is touched: threads and context_length within the server's
/// bounds (a huge context_length would otherwise allocate a KV cache for it), a bounded name and path.
/// </summary>
internal static class LoadModelValidation
{
    /// <summary>Longest path accepted (characters); Linux's PATH_MAX is 4096 bytes.</summary>
    public const int MaxPathChars = 4096;

    public static void Check(LoadModelRequest request, GenerationLimits limits)
    {
        if (request.Path.Length > MaxPathChars)
        {
            throw GrpcErrors.InvalidArgument($"path has {request.Path.Length} characters; at most {MaxPathChars} are accepted.");
        }

        if (request.DraftModel.Length > MaxPathChars)
        {
            throw GrpcErrors.InvalidArgument($"draft_model has {request.DraftModel.Length} characters; at most {MaxPathChars} are accepted.");
        }

        if (request.DraftTokens is < 0 or > Alpaca.Inference.Serving.Speculative.SpeculationOptions.MaxTokens)
        {
            throw GrpcErrors.InvalidArgument($"draft_tokens = {request.DraftTokens} is out of range [0, {Alpaca.Inference.Serving.Speculative.SpeculationOptions.MaxTokens}] (0 = the service's Alpaca:Inference:DraftTokens).");
        }

        if (request.Name.Length > limits.MaxModelNameChars)
        {
            throw GrpcErrors.InvalidArgument($"name has {request.Name.Length} characters; a model name has at most {limits.MaxModelNameChars}.");
        }

        if (request.ChatTemplate.Length > limits.MaxChatTemplateChars)
        {
            throw GrpcErrors.InvalidArgument($"chat_template has {request.ChatTemplate.Length} characters; at most {limits.MaxChatTemplateChars} are accepted.");
        }

        var maxThreads = limits.EffectiveMaxLoadThreads;
        if (request.Threads < 0 || request.Threads > maxThreads)
        {
            throw GrpcErrors.InvalidArgument($"threads = {request.Threads} is out of range [0, {maxThreads}] (0 = the service's setting; at most {maxThreads}, Alpaca:Inference:Limits:MaxLoadThreads, default one per core).");
        }

        if (request.Backend.Length > 0 && !EngineLoader.IsKnownBackend(request.Backend))
        {
            throw GrpcErrors.InvalidArgument($"backend = '{request.Backend}' is not one of: cpu, torch.");
        }

        if (request.Device.Length > 64 || request.Dtype.Length > 16)
        {
            throw GrpcErrors.InvalidArgument("device or dtype is too long (e.g. device \"cuda:0\", dtype \"bf16\").");
        }

        if (request.KvCacheType.Length > 0)
        {
            try
            {
                KvCacheTypes.Parse(request.KvCacheType);
            }
            catch (ArgumentException e)
            {
                throw GrpcErrors.InvalidArgument($"kv_cache_type: {e.Message}");
            }
        }

        if (request.ContextLength < 0 || request.ContextLength > limits.MaxLoadContextLength)
        {
            throw GrpcErrors.InvalidArgument($"context_length = {request.ContextLength} is out of range [0, {limits.MaxLoadContextLength}] (0 = the model's; at most Alpaca:Inference:Limits:MaxLoadContextLength).");
        }
    }
}
