using Alpaca.Dedup.Api.Grpc;

namespace Alpaca.Dedup.Api;

public static class DedupServiceExtensions
{
    public static WebApplicationBuilder AddDedupServices(this WebApplicationBuilder builder)
    {
        return builder;
    }

    public static WebApplication MapDedupServices(this WebApplication app)
    {
        app.MapGrpcService<DedupGrpcService>();
        return app;
    }
}
