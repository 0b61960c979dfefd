using Alpaca.Inference.Api.Grpc;

namespace Alpaca.Inference.Api;

public static class InferenceServiceExtensions
{
    public static WebApplicationBuilder AddInferenceServices(this WebApplicationBuilder builder)
    {
        return builder;
    }

    public static WebApplication MapInferenceServices(this WebApplication app)
    {
        app.MapGrpcService<InferenceGrpcService>();
        return app;
    }
}
