using System.Globalization;
using Alpaca.Gateway;
using Alpaca.TestSupport;
using Microsoft.AspNetCore.Builder;

namespace Alpaca.Trainer.Api.Tests.Support;

/// <summary>
/// The trainer behind the YARP gateway, composed as <c>EmbeddedPlatform</c> (<c>alpaca up --redis</c>) composes
/// them: each a <c>ServiceModule</c> on its own loopback ports, Redis Streams and Redis state, the gateway's
/// <c>trainer</c> cluster pointed at the trainer's h2c port. Only the trainer sits behind it here, since the flow
/// under test touches no other service.
/// </summary>
internal sealed class GatewayPlatform : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    public Uri GatewayGrpc { get; private set; } = null!;

    public static async Task<GatewayPlatform> StartAsync(string redis, IReadOnlyDictionary<string, string?> trainerSettings)
    {
        var platform = new GatewayPlatform();
        try
        {
            var (grpc, http) = (FreePort.Next(), FreePort.Next());
            var settings = new Dictionary<string, string?>(trainerSettings)
            {
                ["Alpaca:Service:BindAddress"] = "127.0.0.1",
                ["Alpaca:Service:GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Service:HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Service:ShutdownTimeout"] = "00:00:10",
                ["Alpaca:Redis"] = redis,
                ["Alpaca:State:Store"] = "redis",
                ["Alpaca:Messaging:Transport"] = "redis",
            };
            var trainer = TrainerModule.Instance.Build(settings);
            platform._apps.Add(trainer);
            await trainer.StartAsync();

            var (gatewayGrpc, gatewayHttp) = (FreePort.Next(), FreePort.Next());
            var gateway = GatewayModule.Instance.Build(new Dictionary<string, string?>
            {
                ["Alpaca:Service:BindAddress"] = "127.0.0.1",
                ["Alpaca:Service:GrpcPort"] = gatewayGrpc.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Service:HttpPort"] = gatewayHttp.ToString(CultureInfo.InvariantCulture),
                ["Alpaca:Service:ShutdownTimeout"] = "00:00:10",
                ["ReverseProxy:Clusters:trainer:Destinations:d1:Address"] = $"http://127.0.0.1:{grpc}",
                ["ReverseProxy:Clusters:trainer:HealthCheck:Active:Interval"] = "00:00:02",
            });
            platform._apps.Add(gateway);
            await gateway.StartAsync();
            platform.GatewayGrpc = new Uri($"http://127.0.0.1:{gatewayGrpc}");
            return platform;
        }
        catch
        {
            await platform.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _apps.Count - 1; i >= 0; i--)
        {
            await _apps[i].StopAsync();
            await _apps[i].DisposeAsync();
        }

        _apps.Clear();
    }
}
