using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Api.Dedup;
using Alpaca.Generator.Api.Grpc;
using Alpaca.Generator.Api.IntegrationEvents;
using Alpaca.Generator.Api.IntegrationEvents.EventHandling;
using Alpaca.Generator.Api.Metrics;
using Alpaca.Generator.Api.Runs;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Runs;
using Alpaca.Messaging;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.State;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Alpaca.Generator.Api;

public static class GeneratorServiceExtensions
{
    /// <summary>Each gRPC method's scope (docs/security.md): generation runs are <c>data</c>.</summary>
    public static readonly IReadOnlyDictionary<string, ApiScope> GrpcScopes = new Dictionary<string, ApiScope>
    {
        ["StartRun"] = ApiScope.Data,
        ["GetRun"] = ApiScope.Data,
        ["ListRuns"] = ApiScope.Data,
        ["CancelRun"] = ApiScope.Data,
        ["WatchRun"] = ApiScope.Data,
    };

    public static WebApplicationBuilder AddGeneratorServices(this WebApplicationBuilder builder)
    {
        var options = new GeneratorOptions();
        builder.Configuration.GetSection(GeneratorOptions.Section).Bind(options);
        if (builder.Configuration[$"{GeneratorOptions.Section}:DataDirectory"] is null && builder.Configuration["Alpaca:State:Path"] is { Length: > 0 } statePath)
        {
            // With a local state folder (alpaca up), outputs go beside the service's state rather than the working directory.
            options.DataDirectory = Path.Combine(statePath, "datasets");
        }

        builder.AddStateStore();
        builder.AddEventBus(GeneratorModule.Name);
        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StateRunStore>();
        services.AddSingleton<RunRequests>();
        services.AddSingleton<RunPaths>();
        services.AddSingleton<RunTeachers>();
        services.AddSingleton<DecisionInbox>();
        services.AddSingleton<GeneratorMetrics>();
        services.AddSingleton<IDatasetPublisher, DatasetPublishedPublisher>();
        if (options.UsesPubSub)
        {
            services.AddSingleton<CandidatesProducedPublisher>();
            // A peer call: the shared service credential, since the dedup service accepts calls only from the gateway and peers.
            services.AddSingleton(sp => new DedupService.DedupServiceClient(GrpcChannel.ForAddress(options.DedupAddress, new GrpcChannelOptions
            {
                HttpHandler = new ServiceTokenHandler(sp.GetRequiredService<AuthOptions>().ServiceToken, sp.GetRequiredService<PeerTls>().CreateHandler()),
            })));
            services.AddSingleton<IInstructionDeduplicator, PubSubDeduplicator>();
        }
        else if (string.Equals(options.DedupMode, "inprocess", StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<IInstructionDeduplicator>(_ => new InProcessDeduplicator());
        }
        else
        {
            throw new InvalidOperationException($"Unknown {GeneratorOptions.Section}:DedupMode '{options.DedupMode}': use pubsub or inprocess.");
        }

        // Subscribed in both modes: decisions for this service's runs are recorded even when they arrive late.
        services.AddEventHandler<InstructionDecided, InstructionDecidedHandler>();
        services.AddSingleton<RunManager>();
        services.AddHostedService(sp => sp.GetRequiredService<RunManager>());
        return builder;
    }

    public static WebApplication MapGeneratorServices(this WebApplication app)
    {
        app.MapGrpcService<GeneratorGrpcService>().RequireScopes(GeneratorService.Descriptor, GrpcScopes);
        app.MapEventSubscriptions();
        return app;
    }
}
