using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api.Grpc;
using Alpaca.Dedup.Api.IntegrationEvents;
using Alpaca.Dedup.Api.IntegrationEvents.EventHandling;
using Alpaca.Dedup.Api.Namespaces;
using Alpaca.Messaging;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.State;

namespace Alpaca.Dedup.Api;

public static class DedupServiceExtensions
{
    /// <summary>Each gRPC method's scope (docs/security.md): <c>data</c>, except deleting a namespace (<c>admin</c>).</summary>
    public static readonly IReadOnlyDictionary<string, ApiScope> GrpcScopes = new Dictionary<string, ApiScope>
    {
        ["ScorePair"] = ApiScope.Data,
        ["CreateNamespace"] = ApiScope.Data,
        ["GetNamespace"] = ApiScope.Data,
        ["ListNamespaces"] = ApiScope.Data,
        ["DeleteNamespace"] = ApiScope.Admin,
        ["CheckCandidates"] = ApiScope.Data,
        ["SubmitCandidates"] = ApiScope.Data,
        ["StreamCandidates"] = ApiScope.Data,
        ["ListPool"] = ApiScope.Data,
    };

    public static WebApplicationBuilder AddDedupServices(this WebApplicationBuilder builder)
    {
        builder.AddStateStore();
        builder.AddEventBus(DedupModule.Name);
        var limits = new DedupLimits();
        builder.Configuration.GetSection(DedupLimits.Section).Bind(limits);
        limits.Validate();
        builder.Services.AddSingleton(limits);
        builder.Services.AddSingleton<DedupNamespaces>();
        builder.Services.AddSingleton<InstructionDecidedPublisher>();
        builder.Services.AddEventHandler<CandidatesProduced, CandidatesProducedHandler>();
        return builder;
    }

    public static WebApplication MapDedupServices(this WebApplication app)
    {
        app.MapGrpcService<DedupGrpcService>().RequireScopes(DedupService.Descriptor, GrpcScopes);
        app.MapEventSubscriptions();
        return app;
    }
}
