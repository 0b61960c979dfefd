using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.State;
using Alpaca.Trainer.Api.Configuration;
using Alpaca.Trainer.Api.Datasets;
using Alpaca.Trainer.Api.Grpc;
using Alpaca.Trainer.Api.IntegrationEvents;
using Alpaca.Trainer.Api.IntegrationEvents.EventHandling;
using Alpaca.Trainer.Api.Jobs;

namespace Alpaca.Trainer.Api;

public static class TrainerServiceExtensions
{
    /// <summary>Each gRPC method's scope (docs/security.md): training jobs are <c>training</c>.</summary>
    public static readonly IReadOnlyDictionary<string, ApiScope> GrpcScopes = new Dictionary<string, ApiScope>
    {
        ["SubmitJob"] = ApiScope.Training,
        ["GetJob"] = ApiScope.Training,
        ["ListJobs"] = ApiScope.Training,
        ["CancelJob"] = ApiScope.Training,
        ["WatchJob"] = ApiScope.Training,
    };

    public static WebApplicationBuilder AddTrainerServices(this WebApplicationBuilder builder)
    {
        builder.AddStateStore();
        builder.AddEventBus(TrainerModule.Name);
        builder.Services.Configure<TrainerOptions>(builder.Configuration.GetSection(TrainerOptions.Section));
        builder.Services.AddSingleton<DatasetCatalog>();
        builder.Services.AddSingleton<JobUpdates>();
        builder.Services.AddSingleton<JobRepository>();
        builder.Services.AddSingleton<JobCrashes>();
        builder.Services.AddSingleton<JobQueue>();
        builder.Services.AddSingleton<JobEventPublisher>();
        builder.Services.AddSingleton<TrainerMetrics>();
        builder.Services.AddSingleton<JobPaths>();
        builder.Services.AddSingleton<JobSpecValidator>();
        builder.Services.AddSingleton<JobManager>();

        // One runner = one job slot: the service trains one job at a time on its device.
        builder.Services.AddHostedService<JobRunner>();
        builder.Services.AddEventHandler<DatasetPublished, DatasetPublishedHandler>();
        return builder;
    }

    public static WebApplication MapTrainerServices(this WebApplication app)
    {
        app.MapGrpcService<TrainerGrpcService>().RequireScopes(TrainerService.Descriptor, GrpcScopes);
        app.MapEventSubscriptions();
        return app;
    }
}
