using Alpaca.Generator.Api.Grpc;

namespace Alpaca.Generator.Api;

public static class GeneratorServiceExtensions
{
    public static WebApplicationBuilder AddGeneratorServices(this WebApplicationBuilder builder)
    {
        return builder;
    }

    public static WebApplication MapGeneratorServices(this WebApplication app)
    {
        app.MapGrpcService<GeneratorGrpcService>();
        return app;
    }
}
