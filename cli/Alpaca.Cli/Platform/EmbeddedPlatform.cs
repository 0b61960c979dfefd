using System.Net;
using System.Net.Sockets;
using Alpaca.Dedup.Api;
using Alpaca.Gateway;
using Alpaca.Generator.Api;
using Alpaca.Inference.Api;
using Alpaca.Messaging.InProcess;
using Alpaca.ServiceDefaults;
using Alpaca.Trainer.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Cli.Platform;

/// <summary>
/// Every service host and the gateway in one process on 127.0.0.1: the embedded default behind
/// <c>alpaca up</c>. Services share one in-process broker (or Redis when given) and keep their state
/// in a local folder (or Redis). Each service gets its own free h2c and HTTP ports; the gateway routes to them.
/// </summary>
public sealed class EmbeddedPlatform : IAsyncDisposable
{
    public static readonly IReadOnlyList<ServiceModule> ServiceModules =
        [GeneratorModule.Instance, DedupModule.Instance, TrainerModule.Instance, InferenceModule.Instance];

    private readonly List<WebApplication> _apps = [];

    private EmbeddedPlatform()
    {
    }

    /// <summary>Gateway gRPC address (h2c), e.g. http://127.0.0.1:5080.</summary>
    public required Uri GatewayGrpc { get; init; }

    /// <summary>Gateway HTTP/1.1 address.</summary>
    public required Uri GatewayHttp { get; init; }

    /// <summary>Each service's gRPC and HTTP address.</summary>
    public required IReadOnlyDictionary<string, (Uri Grpc, Uri Http)> Services { get; init; }

    public IReadOnlyList<WebApplication> Apps => _apps;

    /// <summary>
    /// Starts the platform. Free ports are found by binding port 0 and releasing it, so another process can
    /// take one in between; a start that loses that race is retried with new ports.
    /// </summary>
    public static async Task<EmbeddedPlatform> StartAsync(EmbeddedPlatformOptions options, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException) when (attempt < 5)
            {
                // An address already in use: pick new free ports.
            }
        }
    }

    private static async Task<EmbeddedPlatform> StartOnceAsync(EmbeddedPlatformOptions options, CancellationToken cancellationToken)
    {
        var broker = new InProcessBroker();
        var ports = new Dictionary<string, (int Grpc, int Http)>();
        foreach (var module in ServiceModules)
        {
            ports[module.Name] = (FreePort(), FreePort());
        }

        var gatewayPort = options.GatewayPort == 0 ? FreePort() : options.GatewayPort;
        var gatewayHttpPort = options.GatewayHttpPort == 0 ? FreePort() : options.GatewayHttpPort;
        var platform = new EmbeddedPlatform
        {
            GatewayGrpc = new Uri($"http://127.0.0.1:{gatewayPort}"),
            GatewayHttp = new Uri($"http://127.0.0.1:{gatewayHttpPort}"),
            Services = ports.ToDictionary(p => p.Key, p => (new Uri($"http://127.0.0.1:{p.Value.Grpc}"), new Uri($"http://127.0.0.1:{p.Value.Http}"))),
        };

        try
        {
            foreach (var module in ServiceModules)
            {
                var settings = ServiceSettings(options, module.Name, ports[module.Name]);
                if (module.Name == GeneratorModule.Name)
                {
                    // The generator creates each run's dedup namespace through the dedup service's gRPC API.
                    settings.TryAdd("Alpaca:Generator:DedupAddress", platform.Services[DedupModule.Name].Grpc.ToString());
                }

                var app = module.Build(settings, services =>
                {
                    if (options.Redis is null)
                    {
                        services.AddSingleton(broker);
                    }
                });
                platform._apps.Add(app);
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var gatewaySettings = GatewaySettings(ports, gatewayPort, gatewayHttpPort);
            foreach (var (key, value) in options.GatewaySettings)
            {
                gatewaySettings[key] = value;
            }

            var gateway = GatewayModule.Instance.Build(gatewaySettings);
            platform._apps.Add(gateway);
            await gateway.StartAsync(cancellationToken).ConfigureAwait(false);
            return platform;
        }
        catch
        {
            await platform.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Dictionary<string, string?> ServiceSettings(EmbeddedPlatformOptions options, string name, (int Grpc, int Http) ports)
    {
        var settings = new Dictionary<string, string?>(options.ExtraSettings)
        {
            ["Alpaca:Service:BindAddress"] = "127.0.0.1",
            ["Alpaca:Service:GrpcPort"] = ports.Grpc.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Alpaca:Service:HttpPort"] = ports.Http.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Alpaca:Service:ShutdownTimeout"] = "00:00:10",
        };
        if (name == InferenceModule.Name && options.Model is not null)
        {
            settings["Alpaca:Inference:Model"] = Path.GetFullPath(options.Model);
        }

        // On one machine the whole recipe should flow by itself: a fine-tune the trainer publishes is
        // served next (in a cluster this is a per-deployment choice, off by default).
        if (name == InferenceModule.Name && !settings.ContainsKey("Alpaca:Inference:AutoLoadPublished"))
        {
            settings["Alpaca:Inference:AutoLoadPublished"] = "true";
        }

        if (options.Redis is null)
        {
            settings["Alpaca:State:Store"] = "local";
            settings["Alpaca:State:Path"] = Path.GetFullPath(Path.Combine(options.StateDirectory, name));
            settings["Alpaca:Messaging:Transport"] = "inprocess";
        }
        else
        {
            settings["Alpaca:Redis"] = options.Redis;
            settings["Alpaca:State:Store"] = "redis";
            settings["Alpaca:Messaging:Transport"] = "redis";
        }

        return settings;
    }

    private static Dictionary<string, string?> GatewaySettings(Dictionary<string, (int Grpc, int Http)> ports, int gatewayPort, int gatewayHttpPort)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Alpaca:Service:BindAddress"] = "127.0.0.1",
            ["Alpaca:Service:GrpcPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Alpaca:Service:HttpPort"] = gatewayHttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Alpaca:Service:ShutdownTimeout"] = "00:00:10",
        };
        foreach (var (name, (grpc, _)) in ports)
        {
            settings[$"ReverseProxy:Clusters:{name}:Destinations:d1:Address"] = $"http://127.0.0.1:{grpc}";
            settings[$"ReverseProxy:Clusters:{name}:HealthCheck:Active:Interval"] = "00:00:02";
        }

        settings["ReverseProxy:Clusters:inference-http:Destinations:d1:Address"] = $"http://127.0.0.1:{ports["inference"].Http}";
        return settings;
    }

    /// <summary>
    /// Waits until the inference service has a model ready (after <see cref="EmbeddedPlatformOptions.Model"/>);
    /// throws with the load error when it failed.
    /// </summary>
    public async Task WaitForModelAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var index = ServiceModules.ToList().FindIndex(m => m.Name == InferenceModule.Name);
        var registry = _apps[index].Services.GetRequiredService<Alpaca.Inference.Api.Models.ModelRegistry>();
        var deadline = DateTime.UtcNow + timeout;
        while (!registry.IsReady)
        {
            if (registry.List().FirstOrDefault(m => m.State == Alpaca.Contracts.V1.ModelState.Failed) is { } failed)
            {
                throw new InvalidOperationException($"Loading model {failed.Path} failed: {failed.Error}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No model was ready after {timeout.TotalSeconds:F0} s.");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        // Gateway first (stop taking calls), then the services, each draining its in-flight calls.
        for (var i = _apps.Count - 1; i >= 0; i--)
        {
            try
            {
                await _apps[i].StopAsync().ConfigureAwait(false);
            }
            finally
            {
                await _apps[i].DisposeAsync().ConfigureAwait(false);
            }
        }

        _apps.Clear();
    }
}
