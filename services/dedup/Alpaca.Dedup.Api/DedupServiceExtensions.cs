using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api.Grpc;
using Alpaca.Dedup.Api.IntegrationEvents;
using Alpaca.Dedup.Api.IntegrationEvents.EventHandling;
using Alpaca.Dedup.Api.Namespaces;
using Alpaca.Messaging;
using Alpaca.State;

namespace Alpaca.Dedup.Api;

public static class DedupServiceExtensions
{
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
        app.MapGrpcService<DedupGrpcService>();
        app.MapEventSubscriptions();
        return app;
    }
}
