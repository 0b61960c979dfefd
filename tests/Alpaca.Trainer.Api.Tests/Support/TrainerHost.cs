using System.Globalization;
using Alpaca.Contracts.V1;
using Alpaca.Messaging.InProcess;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Trainer.Api.Tests.Support;

/// <summary>
/// The trainer service host (the same <see cref="TrainerModule"/> that <c>alpaca up</c> runs) on real Kestrel
/// on loopback ports, with a local state folder and an in-process broker the test can subscribe to.
/// </summary>
internal sealed class TrainerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private TrainerHost(WebApplication app, InProcessBroker broker, Uri address, Uri http)
    {
        Http = http;
        _app = app;
        Broker = broker;
        _channel = GrpcChannel.ForAddress(address);
        Client = new TrainerService.TrainerServiceClient(_channel);
    }

    public TrainerService.TrainerServiceClient Client { get; }

    public InProcessBroker Broker { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The HTTP/1.1 port: health, /metrics.</summary>
    public Uri Http { get; }

    public static async Task<TrainerHost> StartAsync(string stateDir, InProcessBroker? broker = null)
    {
        broker ??= new InProcessBroker();
        var grpcPort = FreePort.Next();
        var httpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>
        {
            ["Alpaca:Service:BindAddress"] = "127.0.0.1",
            ["Alpaca:Service:GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            // A service on its own, called directly: these tests are not about authentication (tests/Alpaca.Platform.Tests/Auth are).
            ["Alpaca:Auth:Enabled"] = "false",
            ["Alpaca:Service:HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture),
            ["Alpaca:Service:ShutdownTimeout"] = "00:00:10",
            ["Alpaca:State:Store"] = "local",
            ["Alpaca:State:Path"] = Path.Combine(stateDir, "state"),
            ["Alpaca:Messaging:Transport"] = "inprocess",
            ["Alpaca:Trainer:OutputRoot"] = Path.Combine(stateDir, "jobs"),
            ["Alpaca:Paths:DataRoots"] = stateDir, // the tests write their data and base models there
            ["Alpaca:Trainer:Threads"] = "2",
            ["Alpaca:Trainer:Device"] = "cpu",
        };
        var app = TrainerModule.Instance.Build(settings, services => services.AddSingleton(broker));
        await app.StartAsync();
        return new TrainerHost(app, broker, new Uri($"http://127.0.0.1:{grpcPort}"), new Uri($"http://127.0.0.1:{httpPort}"));
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
