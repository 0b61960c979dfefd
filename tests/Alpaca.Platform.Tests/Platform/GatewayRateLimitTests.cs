using Alpaca.Gateway;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using Grpc.Core;
using Grpc.Health.V1;

namespace Alpaca.Platform.Tests.Platform;

/// <summary>The gateway's per-key rate limit answers gRPC callers with RESOURCE_EXHAUSTED and a retry hint; a made-up header is no identity.</summary>
public sealed class GatewayRateLimitTests
{
    [Fact]
    public async Task Calls_beyond_the_limit_get_RESOURCE_EXHAUSTED_with_a_retry_hint()
    {
        using var dir = new TempDir();
        await using var platform = await EmbeddedPlatform.StartAsync(EveryService.Modules, new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = dir.Path,
            GatewaySettings = new Dictionary<string, string?>
            {
                ["Alpaca:Gateway:RateLimit:PermitLimit"] = "3",
                ["Alpaca:Gateway:RateLimit:Window"] = "00:01:00",
            },
        });
        // Limits are per authenticated key: two keys, two budgets.
        var teamA = (await platform.Keys!.CreateAsync("team-a", [ApiScope.Data])).Key;
        var teamB = (await platform.Keys.CreateAsync("team-b", [ApiScope.Data])).Key;
        using var channel = platform.GatewayChannel(teamA);
        using var channelB = platform.GatewayChannel(teamB);
        var client = new Alpaca.Contracts.V1.DedupService.DedupServiceClient(channel);
        var codes = new List<StatusCode>();
        RpcException? last = null;
        for (var i = 0; i < 5; i++)
        {
            try
            {
                await client.GetNamespaceAsync(new Alpaca.Contracts.V1.GetNamespaceRequest { Namespace = "x" }, new Metadata { { "x-api-key", "forged-" + i } });
                codes.Add(StatusCode.OK);
            }
            catch (RpcException ex)
            {
                codes.Add(ex.StatusCode);
                last = ex;
            }
        }

        Assert.DoesNotContain(StatusCode.ResourceExhausted, codes.Take(3));
        Assert.Equal([StatusCode.ResourceExhausted, StatusCode.ResourceExhausted], codes.Skip(3));
        Assert.NotNull(last!.Trailers.GetValue("retry-after-ms"));

        // Another client has its own budget; the shared health path is not rate limited.
        var other = await Record.ExceptionAsync(() => new Alpaca.Contracts.V1.DedupService.DedupServiceClient(channelB).GetNamespaceAsync(new Alpaca.Contracts.V1.GetNamespaceRequest { Namespace = "x" }).ResponseAsync);
        Assert.NotEqual(StatusCode.ResourceExhausted, (other as RpcException)?.StatusCode);
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), new Metadata { { GatewayRoutes.ServiceHeader, "dedup" } });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }
}
