using System.Globalization;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Alpaca.Generator.Api.Tests.Support;

/// <summary>The generator service host in this process on free loopback ports, with a gRPC client.</summary>
public sealed class GeneratorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private GeneratorHost(WebApplication app, int grpcPort, int httpPort)
    {
        _app = app;
        Http = new Uri($"http://127.0.0.1:{httpPort}");
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        Client = new GeneratorService.GeneratorServiceClient(_channel);
    }

    public GeneratorService.GeneratorServiceClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The HTTP/1.1 port: health and <c>/metrics</c>.</summary>
    public Uri Http { get; }

    /// <summary>Settings of a standalone generator: the given state, in-process bus and dedup, short pauses.</summary>
    public static Dictionary<string, string?> Settings(int grpcPort, int httpPort, string? stateDir = null, string? redis = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Alpaca:Service:BindAddress"] = "127.0.0.1",
            ["Alpaca:Service:GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            // A service on its own, called directly: these tests are not about authentication (tests/Alpaca.Platform.Tests/Auth are).
            ["Alpaca:Auth:Enabled"] = "false",
            ["Alpaca:Service:HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture),
            ["Alpaca:Service:ShutdownTimeout"] = "00:00:05",
            ["Alpaca:State:Store"] = redis is null ? "local" : "redis",
            ["Alpaca:State:Path"] = stateDir,
            ["Alpaca:Redis"] = redis,
            ["Alpaca:Messaging:Transport"] = redis is null ? "inprocess" : "redis",
            ["Alpaca:Generator:DedupMode"] = "inprocess",
            ["Alpaca:Generator:PauseDelay"] = "00:00:00.200",
            ["Alpaca:Generator:RetryBaseDelay"] = "00:00:00.050",
            ["Alpaca:Generator:ExportInterval"] = "00:00:00.500",
            // A killed process's run leases block its runs for one TTL after a restart (the default 30 s is
            // most of a test's budget); claims are looked for often.
            ["Alpaca:Generator:LeaseTtl"] = "00:00:02",
            ["Alpaca:Generator:RunPollInterval"] = "00:00:00.200",
            ["Alpaca:Generator:DecisionPollInterval"] = "00:00:00.100",
        };

        // The tests' loopback teachers and temp folders, allowed explicitly (the defaults refuse them).
        foreach (var (key, value) in GeneratorTestSettings.LoopbackTeachers())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static async Task<GeneratorHost> StartAsync(string stateDir, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var (grpcPort, httpPort) = (FreePort.Next(), FreePort.Next());
        var settings = Settings(grpcPort, httpPort, stateDir);
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        var app = GeneratorModule.Instance.Build(settings);
        await app.StartAsync();
        return new GeneratorHost(app, grpcPort, httpPort);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
