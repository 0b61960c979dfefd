using System.CommandLine;
using Alpaca.Platform;
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

            var rows = await PlatformHealth.CheckAllAsync(address, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
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
}
