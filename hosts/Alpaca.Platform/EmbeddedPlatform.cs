using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Alpaca.Gateway;
using Alpaca.Messaging.InProcess;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.State;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Platform;

/// <summary>
/// Service hosts and the gateway in one process on 127.0.0.1: <c>alpaca up</c> runs every service this way,
/// integration tests the ones they exercise. Services share one in-process broker (or Redis when given) and
/// keep their state in a local folder per service (or Redis). Each service gets its own free h2c and HTTP
/// ports; the gateway routes to them.
/// </summary>
public sealed class EmbeddedPlatform : IAsyncDisposable
{
    private readonly List<(string Name, WebApplication App)> _apps = [];

    private EmbeddedPlatform()
    {
    }

    /// <summary>Gateway gRPC address (h2c), e.g. http://127.0.0.1:5080.</summary>
    public required Uri GatewayGrpc { get; init; }

    /// <summary>Gateway HTTP/1.1 address.</summary>
    public required Uri GatewayHttp { get; init; }

    /// <summary>The web console the gateway serves (docs/console.md).</summary>
    public Uri Console => new(GatewayHttp, "/console/");

    /// <summary>Where the console lists evaluation reports from: <c>&lt;state&gt;/reports</c> unless the gateway settings name another.</summary>
    public required string ReportsDirectory { get; init; }

    /// <summary>Each service's gRPC and HTTP address.</summary>
    public required IReadOnlyDictionary<string, (Uri Grpc, Uri Http)> Services { get; init; }

    /// <summary>
    /// The admin key the first start of this state created (<c>alpaca up</c> prints it once); null when the
    /// store already had keys or authentication is off.
    /// </summary>
    public string? InitialAdminKey { get; private set; }

    /// <summary>The shared service credential the gateway adds and the services require (a scraper of a service's /metrics sends it).</summary>
    public string? ServiceToken { get; private set; }

    /// <summary>The platform's key store (null with authentication off).</summary>
    public ApiKeyStore? Keys { get; private set; }

    private string? _adminKey;

    /// <summary>
    /// An admin key for this process's own clients (tests, the CLI's in-process calls): the initial key, or one
    /// made on first use when the store already had keys. Null with authentication off.
    /// </summary>
    public string? AdminKey => Keys is null ? null : _adminKey ??= InitialAdminKey
        ?? Keys.CreateAsync("embedded-admin", [ApiScope.Admin]).GetAwaiter().GetResult().Key;

    /// <summary>A gRPC channel to the gateway that sends <paramref name="key"/> (default: <see cref="AdminKey"/>).</summary>
    public GrpcChannel GatewayChannel(string? key = null) =>
        GrpcChannel.ForAddress(GatewayGrpc, new GrpcChannelOptions { HttpHandler = new BearerKeyHandler(key ?? AdminKey) });

    /// <summary>An HTTP client for the gateway's HTTP port that sends <paramref name="key"/> (default: <see cref="AdminKey"/>).</summary>
    public HttpClient GatewayHttpClient(string? key = null) =>
        new(new BearerKeyHandler(key ?? AdminKey)) { BaseAddress = GatewayHttp };

    /// <summary>The running host of one service (or of the gateway, <see cref="GatewayModule.Name"/>).</summary>
    public WebApplication App(string name) => _apps.Single(a => a.Name == name).App;

    /// <summary>
    /// Starts <paramref name="services"/> and the gateway. Free ports are found by binding port 0 and releasing
    /// it, so another process can take one in between; a start that loses that race is retried with new ports.
    /// </summary>
    public static async Task<EmbeddedPlatform> StartAsync(IReadOnlyList<ServiceModule> services, EmbeddedPlatformOptions options, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(services, options, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException) when (attempt < 5)
            {
                // An address already in use: pick new free ports.
            }
        }
    }

    private static async Task<EmbeddedPlatform> StartOnceAsync(IReadOnlyList<ServiceModule> services, EmbeddedPlatformOptions options, CancellationToken cancellationToken)
    {
        var broker = new InProcessBroker();
        var ports = services.ToDictionary(m => m.Name, _ => (Grpc: FreePort(), Http: FreePort()));
        var gatewayPort = options.GatewayPort == 0 ? FreePort() : options.GatewayPort;
        var gatewayHttpPort = options.GatewayHttpPort == 0 ? FreePort() : options.GatewayHttpPort;
        // Mutual TLS between the gateway and the services when the services are given certificates (Alpaca:Tls;
        // the gateway takes the same files unless its own settings name others): their gRPC ports are https.
        var tls = options.ExtraSettings.Where(s => s.Key.StartsWith("Alpaca:Tls:", StringComparison.OrdinalIgnoreCase)).ToDictionary();
        var serviceScheme = tls.Count > 0 ? "https" : "http";
        var platform = new EmbeddedPlatform
        {
            GatewayGrpc = new Uri($"http://127.0.0.1:{gatewayPort}"),
            GatewayHttp = new Uri($"http://127.0.0.1:{gatewayHttpPort}"),
            ReportsDirectory = options.GatewaySettings.GetValueOrDefault("Alpaca:Console:ReportsDir") is { Length: > 0 } reports
                ? Path.GetFullPath(reports)
                : Path.GetFullPath(Path.Combine(options.StateDirectory, "reports")),
            Services = ports.ToDictionary(p => p.Key, p => (new Uri($"{serviceScheme}://127.0.0.1:{p.Value.Grpc}"), new Uri($"http://127.0.0.1:{p.Value.Http}"))),
        };
        var peers = platform.Services.ToDictionary(s => s.Key, s => s.Value.Grpc);
        var auth = AuthSettings(options);
        platform.ServiceToken = auth["Alpaca:Auth:ServiceToken"];
        // One key store for every host: a local folder is owned by one store instance (LocalFolderStateStore).
        var keys = options.InsecureNoAuth || options.Redis is not null
            ? null
            : new ApiKeyStore(new LocalFolderStateStore(auth["Alpaca:Auth:Path"]!), options.ExtraSettings.GetValueOrDefault("Alpaca:Auth:Pepper"));

        try
        {
            foreach (var module in services)
            {
                var settings = ServiceSettings(options, module, ports[module.Name], peers);
                foreach (var (key, value) in auth)
                {
                    settings.TryAdd(key, value);
                }

                var app = module.Build(settings, shared =>
                {
                    if (options.Redis is null)
                    {
                        shared.AddSingleton(broker);
                    }

                    if (keys is not null)
                    {
                        shared.AddSingleton(keys);
                    }
                });
                platform._apps.Add((module.Name, app));
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var gatewaySettings = GatewaySettings(ports, gatewayPort, gatewayHttpPort, tls.Count > 0);
            // The console lists the evaluation reports of this state (alpaca eval writes them there by default).
            gatewaySettings["Alpaca:Console:ReportsDir"] = platform.ReportsDirectory;
            foreach (var (key, value) in auth.Concat(tls).Concat(options.GatewaySettings))
            {
                gatewaySettings[key] = value;
            }

            if (options.Redis is not null)
            {
                gatewaySettings["Alpaca:Redis"] = options.Redis;
                gatewaySettings["Alpaca:Auth:Store"] = "redis";
                if (options.ExtraSettings.GetValueOrDefault("Alpaca:State:Prefix") is { } prefix)
                {
                    gatewaySettings["Alpaca:State:Prefix"] = prefix;
                }
            }

            var gateway = GatewayModule.Instance.Build(gatewaySettings, shared =>
            {
                if (keys is not null)
                {
                    shared.AddSingleton(keys);
                }
            });
            platform._apps.Add((GatewayModule.Name, gateway));
            await gateway.StartAsync(cancellationToken).ConfigureAwait(false);
            if (!options.InsecureNoAuth)
            {
                platform.Keys = gateway.Services.GetRequiredService<ApiKeyStore>();
                platform.InitialAdminKey = await platform.Keys.CreateInitialAdminKeyAsync(cancellationToken).ConfigureAwait(false);
            }

            return platform;
        }
        catch
        {
            await platform.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A service's configuration, lowest precedence first: the module's own defaults for running beside the
    /// others, the options' settings for every service and for this one, then what the platform fixes (ports,
    /// state, transport).
    /// </summary>
    private static Dictionary<string, string?> ServiceSettings(EmbeddedPlatformOptions options, ServiceModule module, (int Grpc, int Http) ports, IReadOnlyDictionary<string, Uri> peers)
    {
        var settings = new Dictionary<string, string?>(module.EmbeddedDefaults?.Invoke(peers) ?? new Dictionary<string, string?>());
        var own = options.ServiceSettings.GetValueOrDefault(module.Name) ?? new Dictionary<string, string?>();
        foreach (var (key, value) in options.ExtraSettings.Concat(own))
        {
            settings[key] = value;
        }

        settings["Alpaca:Service:BindAddress"] = "127.0.0.1";
        settings["Alpaca:Service:GrpcPort"] = ports.Grpc.ToString(CultureInfo.InvariantCulture);
        settings["Alpaca:Service:HttpPort"] = ports.Http.ToString(CultureInfo.InvariantCulture);
        settings["Alpaca:Service:ShutdownTimeout"] = "00:00:10";
        if (options.Redis is null)
        {
            settings["Alpaca:State:Store"] = "local";
            settings["Alpaca:State:Path"] = Path.GetFullPath(Path.Combine(options.StateDirectory, module.Name));
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

    /// <summary>
    /// Authentication for every host: on unless turned off; keys in <c>STATE/auth</c> (or Redis); a service
    /// credential made for this start (unless configured), which the gateway adds and the services require, so
    /// a call that reaches a service port directly is refused.
    /// </summary>
    private static Dictionary<string, string?> AuthSettings(EmbeddedPlatformOptions options)
    {
        var token = options.ExtraSettings.GetValueOrDefault("Alpaca:Auth:ServiceToken")
            ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        return new Dictionary<string, string?>
        {
            ["Alpaca:Auth:Enabled"] = options.InsecureNoAuth ? "false" : "true",
            ["Alpaca:Auth:ServiceToken"] = token,
            ["Alpaca:Auth:Path"] = Path.GetFullPath(Path.Combine(options.StateDirectory, "auth")),
        };
    }

    private static Dictionary<string, string?> GatewaySettings(Dictionary<string, (int Grpc, int Http)> ports, int gatewayPort, int gatewayHttpPort, bool tls)
    {
        var scheme = tls ? "https" : "http";
        var settings = new Dictionary<string, string?>
        {
            ["Alpaca:Service:BindAddress"] = "127.0.0.1",
            ["Alpaca:Service:GrpcPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Alpaca:Service:HttpPort"] = gatewayHttpPort.ToString(CultureInfo.InvariantCulture),
            ["Alpaca:Service:ShutdownTimeout"] = "00:00:10",
        };
        foreach (var (name, (grpc, _)) in ports)
        {
            settings[$"ReverseProxy:Clusters:{name}:Destinations:d1:Address"] = $"{scheme}://127.0.0.1:{grpc}";
            settings[$"ReverseProxy:Clusters:{name}:HealthCheck:Active:Interval"] = "00:00:02";
        }

        // The OpenAI-compatible API is the inference service's HTTP port; with mTLS its gRPC port, over HTTP/2
        // (as GatewayRoutes.DefaultSettings(tls: true)).
        if (ports.TryGetValue("inference", out var inference))
        {
            settings["ReverseProxy:Clusters:inference-http:Destinations:d1:Address"] = tls ? $"https://127.0.0.1:{inference.Grpc}" : $"http://127.0.0.1:{inference.Http}";
        }

        return settings;
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
                await _apps[i].App.StopAsync().ConfigureAwait(false);
            }
            finally
            {
                await _apps[i].App.DisposeAsync().ConfigureAwait(false);
            }
        }

        _apps.Clear();
    }
}
