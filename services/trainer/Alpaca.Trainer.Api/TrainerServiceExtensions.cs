using Alpaca.Trainer.Api.Grpc;

namespace Alpaca.Trainer.Api;

public static class TrainerServiceExtensions
{
    public static WebApplicationBuilder AddTrainerServices(this WebApplicationBuilder builder)
    {
        return builder;
    }

    public static WebApplication MapTrainerServices(this WebApplication app)
    {
        app.MapGrpcService<TrainerGrpcService>();
        return app;
    }
}
