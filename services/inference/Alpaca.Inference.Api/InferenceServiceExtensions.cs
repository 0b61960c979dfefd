using Alpaca.Contracts.V1;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Grpc;
using Alpaca.Inference.Api.Health;
using Alpaca.Inference.Api.IntegrationEvents.EventHandling;
using Alpaca.Inference.Api.Metrics;
using Alpaca.Inference.Api.Models;
using Alpaca.Inference.Api.OpenAi;
using Alpaca.Messaging;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.State;

namespace Alpaca.Inference.Api;

public static class InferenceServiceExtensions
{
    /// <summary>Each gRPC method's scope (docs/security.md): serving is <c>inference</c>, changing what is served is <c>admin</c>.</summary>
    public static readonly IReadOnlyDictionary<string, ApiScope> GrpcScopes = new Dictionary<string, ApiScope>
    {
        ["Generate"] = ApiScope.Inference,
        ["Complete"] = ApiScope.Inference,
        ["Tokenize"] = ApiScope.Inference,
        ["Detokenize"] = ApiScope.Inference,
        ["ListModels"] = ApiScope.Inference,
        ["GetModelInfo"] = ApiScope.Inference,
        ["ServerLive"] = ApiScope.Inference,
        ["ServerReady"] = ApiScope.Inference,
        ["ModelReady"] = ApiScope.Inference,
        ["LoadModel"] = ApiScope.Admin,
        ["UnloadModel"] = ApiScope.Admin,
        ["SetDefaultModel"] = ApiScope.Admin,
    };

    public static WebApplicationBuilder AddInferenceServices(this WebApplicationBuilder builder)
    {
        var options = new InferenceOptions();
        builder.Configuration.GetSection("Alpaca:Inference").Bind(options);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(ModelRoots.FromConfiguration(builder.Configuration, options));
        var limits = new GenerationLimits();
        builder.Configuration.GetSection(GenerationLimits.Section).Bind(limits);
        limits.Validate();
        builder.Services.AddSingleton(limits);
        // State for the event bus's processed-event records and the desired models every replica reconciles.
        builder.AddStateStore();
        builder.AddEventBus(InferenceModule.Name);
        builder.Services.AddSingleton<InferenceMetrics>();
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<GenerationRunner>();
        builder.Services.AddHostedService<StartupModelLoader>();
        builder.Services.AddSingleton<DesiredModels>();
        builder.Services.AddSingleton<ModelReconciler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelReconciler>());
        builder.Services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model", tags: [HealthTags.Ready]);
        builder.Services.AddEventHandler<ModelPublished, ModelPublishedHandler>();
        return builder;
    }

    public static WebApplication MapInferenceServices(this WebApplication app)
    {
        app.MapGrpcService<InferenceGrpcService>().RequireScopes(InferenceService.Descriptor, GrpcScopes);
        app.MapOpenAiEndpoints();
        app.MapEventSubscriptions();
        return app;
    }
}
