using System.CommandLine;
using System.Diagnostics;
using Alpaca.Gateway;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Platform;

/// <summary><c>alpaca status</c>: every service's gRPC health check, through the gateway.</summary>
public static class StatusCommand
{
    public static Command Build()
    {
        var gateway = new Option<string>("--gateway") { Description = "Gateway gRPC address.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ALPACA_GATEWAY") ?? "http://127.0.0.1:5080" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for each check.", DefaultValueFactory = _ => 5 };
        var command = new Command("status", "Check every service's health through the gateway; exits non-zero when any is not serving.") { gateway, timeout };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(gateway), UriKind.Absolute, out var address))
            {
                Console.Error.WriteLine($"alpaca status: --gateway must be an absolute URL, got '{parse.GetValue(gateway)}'.");
                return 2;
            }

            var rows = await CheckAllAsync(address, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
            var table = new Table().AddColumns("service", "status", "latency", "detail");
            foreach (var row in rows)
            {
                var color = row.Status == "SERVING" ? "green" : "red";
                table.AddRow(row.Service, $"[{color}]{row.Status}[/]", $"{row.Latency.TotalMilliseconds:F0} ms", Markup.Escape(row.Detail));
            }

            AnsiConsole.Write(table);
            return rows.All(r => r.Status == "SERVING") ? 0 : 1;
        });
        return command;
    }

    public sealed record StatusRow(string Service, string Status, TimeSpan Latency, string Detail);

    public static async Task<IReadOnlyList<StatusRow>> CheckAllAsync(Uri gateway, TimeSpan timeout, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(gateway);
        var client = new Health.HealthClient(channel);
        var checks = new List<Task<StatusRow>> { CheckAsync(client, "gateway", "", null, timeout, ct) };
        checks.AddRange(GatewayRoutes.Services.Select(s => CheckAsync(client, s.Name, s.GrpcService, s.Name, timeout, ct)));
        return await Task.WhenAll(checks);
    }

    private static async Task<StatusRow> CheckAsync(Health.HealthClient client, string name, string grpcService, string? header, TimeSpan timeout, CancellationToken ct)
    {
        var headers = new Metadata();
        if (header is not null)
        {
            headers.Add(GatewayRoutes.ServiceHeader, header);
        }

        var watch = Stopwatch.StartNew();
        try
        {
            var reply = await client.CheckAsync(new HealthCheckRequest { Service = grpcService }, headers, DateTime.UtcNow + timeout, ct);
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
