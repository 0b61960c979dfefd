using System.Globalization;
using Alpaca.Dedup.Api;
using Alpaca.TestSupport;
using Microsoft.AspNetCore.Builder;

namespace Alpaca.Generator.Api.Tests.Support;

/// <summary>The dedup service in this process on Redis Streams and Redis state, for generator processes that dedup over pub/sub.</summary>
public static class DedupHost
{
    public static async Task<WebApplication> StartAsync(string redis, int grpcPort)
    {
        var app = DedupModule.Instance.Build(new Dictionary<string, string?>
        {
            ["Alpaca:Service:BindAddress"] = "127.0.0.1",
            ["Alpaca:Service:GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            // A service on its own, called directly: these tests are not about authentication (tests/Alpaca.Platform.Tests/Auth are).
            ["Alpaca:Auth:Enabled"] = "false",
            ["Alpaca:Service:HttpPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Alpaca:Redis"] = redis,
            ["Alpaca:State:Store"] = "redis",
            ["Alpaca:Messaging:Transport"] = "redis",
            ["Alpaca:Messaging:Redis:PollInterval"] = "00:00:00.010",
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>Settings of a generator process that dedups through the dedup service at <paramref name="dedupPort"/>, with short redelivery times.</summary>
    public static Dictionary<string, string?> PubSubGeneratorSettings(int dedupPort) => new()
    {
        ["Alpaca:Generator:DedupMode"] = "pubsub",
        ["Alpaca:Generator:DedupAddress"] = $"http://127.0.0.1:{dedupPort}",
        ["Alpaca:Generator:DecisionTimeout"] = "00:00:03",
        ["Alpaca:Messaging:Redis:PollInterval"] = "00:00:00.010",
        ["Alpaca:Messaging:Redis:ClaimIdleTime"] = "00:00:02",
        ["Alpaca:Messaging:Redis:ClaimInterval"] = "00:00:00.500",
        // The kill may land inside a decision handler: its processing lease then blocks that decision for
        // one TTL after the restart (the default 30 s is most of a test's budget).
        ["Alpaca:Messaging:ProcessingLease"] = "00:00:03",
    };
}
