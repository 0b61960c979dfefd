using System.Diagnostics;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Platform;

/// <summary><c>alpaca up</c> and <c>alpaca status</c> as real processes talking over real sockets.</summary>
public sealed class AlpacaUpProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public async Task Alpaca_up_with_a_model_serves_every_service_and_alpaca_status_reports_them_through_the_gateway()
    {
        using var up = Process.Start(AlpacaCli.StartInfo("up", "--port", "0", "--http-port", "0", "--state", _dir.Path, "--model", TinyGguf.Write(_dir)))!;
        try
        {
            var stderr = up.StandardError.ReadToEndAsync();
            string? gateway = null;
            string? key = null;
            string? console = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (console is null && await up.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                // The first start of a state prints its admin key once, before the addresses.
                if (line.StartsWith("api-key: ", StringComparison.Ordinal))
                {
                    key = line["api-key: ".Length..].Trim();
                }

                if (line.StartsWith("gateway: ", StringComparison.Ordinal))
                {
                    gateway = line["gateway: ".Length..].Trim();
                }

                // The last address line: the web console, where a new user goes next.
                if (line.StartsWith("console: ", StringComparison.Ordinal))
                {
                    console = line["console: ".Length..].Trim();
                }
            }

            if (gateway is null || console is null)
            {
                up.WaitForExit(5000);
                Assert.Fail($"alpaca up printed no gateway address (exited: {up.HasExited}); stderr:\n" + (up.HasExited ? await stderr : "(still running)"));
            }

            Assert.StartsWith("alp_", key);
            using (var http = new HttpClient())
            {
                var page = await http.GetStringAsync(new Uri(console!));
                Assert.Contains("<html", page, StringComparison.OrdinalIgnoreCase);
            }

            using var status = Process.Start(AlpacaCli.StartInfo("status", "--gateway", gateway!))!;
            var output = await status.StandardOutput.ReadToEndAsync();
            await status.WaitForExitAsync();
            Assert.True(status.ExitCode == 0, "alpaca status failed:\n" + output + await status.StandardError.ReadToEndAsync());
            foreach (var service in new[] { "gateway", "generator", "dedup", "trainer", "inference" })
            {
                Assert.Matches($"│ {service} +│ SERVING", output);
            }

            // The model commands and the load test drive the same platform through the gateway.
            var (listCode, list) = await RunAsync("models", "list", "--gateway", gateway!, "--api-key", key!);
            Assert.True(listCode == 0, list);
            Assert.Matches("│ tiny +│ Ready", list);

            var (loadCode, load) = await RunAsync("loadtest", "--gateway", gateway!, "--api-key", key!, "--concurrency", "1,2", "--max-tokens", "8", "--duration", "0");
            Assert.True(loadCode == 0, load);
            Assert.Matches(@"\| 2 \| 2 \| 0 \| 16 \|", load);

            // Without the key the same command is refused.
            var (refusedCode, refused) = await RunAsync("models", "list", "--gateway", gateway!);
            Assert.True(refusedCode != 0, refused);
            Assert.Contains("Unauthenticated", refused, StringComparison.Ordinal);
        }
        finally
        {
            up.Kill(entireProcessTree: true);
            await up.WaitForExitAsync();
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var (code, output, error) = await AlpacaCli.RunAsync(TimeSpan.FromMinutes(2), args);
        return (code, output + error);
    }

    public void Dispose() => _dir.Dispose();
}
