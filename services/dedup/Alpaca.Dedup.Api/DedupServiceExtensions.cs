using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api.Events;
using Alpaca.Dedup.Api.Grpc;
using Alpaca.Dedup.Api.Namespaces;
using Alpaca.Messaging;

namespace Alpaca.Dedup.Api;

public static class DedupServiceExtensions
{
    public static WebApplicationBuilder AddDedupServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DedupNamespaces>();
        builder.Services.AddEventHandler<CandidatesProduced, CandidatesProducedHandler>();
        return builder;
    }

    public static WebApplication MapDedupServices(this WebApplication app)
    {
        app.MapGrpcService<DedupGrpcService>();
        return app;
    }
}
