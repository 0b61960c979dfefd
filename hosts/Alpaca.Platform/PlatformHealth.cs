using System.Diagnostics;
using Alpaca.Gateway;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Alpaca.Platform;

/// <summary>Every service's gRPC health, asked through the gateway (the gateway's own first): what <c>alpaca status</c> shows.</summary>
public static class PlatformHealth
{
    public sealed record StatusRow(string Service, string Status, TimeSpan Latency, string Detail);

    public static async Task<IReadOnlyList<StatusRow>> CheckAllAsync(Uri gateway, TimeSpan timeout, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(gateway);
        var client = new Health.HealthClient(channel);
        var checks = new List<Task<StatusRow>> { CheckAsync(client, "gateway", "", null, timeout, ct) };
        checks.AddRange(GatewayRoutes.Services.Select(s => CheckAsync(client, s.Name, s.GrpcService, s.Name, timeout, ct)));
        return await Task.WhenAll(checks).ConfigureAwait(false);
    }

    private static async Task<StatusRow> CheckAsync(Health.HealthClient client, string name, string grpcService, string? header, TimeSpan timeout, CancellationToken ct)
    {
        // The shared health path reaches a backend only when the header names it; without it the gateway answers.
        var headers = new Metadata();
        if (header is not null)
        {
            headers.Add(GatewayRoutes.ServiceHeader, header);
        }

        var watch = Stopwatch.StartNew();
        try
        {
            var reply = await client.CheckAsync(new HealthCheckRequest { Service = grpcService }, headers, DateTime.UtcNow + timeout, ct).ConfigureAwait(false);
            return new StatusRow(name, reply.Status.ToString().ToUpperInvariant() switch
            {
                "SERVING" => "SERVING",
                "NOTSERVING" => "NOT_SERVING",
                var other => other,
            }, watch.Elapsed, grpcService.Length > 0 ? grpcService : "gateway");
        }
        catch (RpcException ex)
        {
            return new StatusRow(name, "UNAVAILABLE", watch.Elapsed, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
    }
}
