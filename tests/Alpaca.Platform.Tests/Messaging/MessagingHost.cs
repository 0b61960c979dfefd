using Alpaca.Contracts.V1;
using Alpaca.Messaging;
using Alpaca.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Alpaca.Platform.Tests.Messaging;

/// <summary>A real generic host with the messaging library configured as a service would have it.</summary>
public static class MessagingHost
{
    public static async Task<(IHost Host, Probe Probe)> StartAsync(string appId, string stateDir, Dictionary<string, string?> settings, Action<IServiceCollection>? shared = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings)
        {
            ["Alpaca:State:Store"] = "local",
            ["Alpaca:State:Path"] = stateDir,
        });
        var probe = new Probe();
        builder.Services.AddSingleton(probe);
        shared?.Invoke(builder.Services);
        builder.AddStateStore();
        builder.AddEventBus(appId);
        builder.Services.AddEventHandler<DatasetPublished, ProbeHandler>();
        var host = builder.Build();
        await host.StartAsync();
        return (host, probe);
    }

    public static DatasetPublished Event(string runId) => new() { DatasetId = "ds-" + runId, RunId = runId, RecordCount = 3 };
}
