using System.Diagnostics;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Platform;

/// <summary><c>alpaca up</c> and <c>alpaca status</c> as real processes talking over real sockets.</summary>
public sealed class AlpacaUpProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static ProcessStartInfo Alpaca(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "alpaca.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    [Fact]
    public async Task Alpaca_up_serves_every_service_and_alpaca_status_reports_them_through_the_gateway()
    {
        using var up = Process.Start(Alpaca("up", "--port", "0", "--http-port", "0", "--state", _dir.Path))!;
        try
        {
            var stderr = up.StandardError.ReadToEndAsync();
            string? gateway = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (gateway is null && await up.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("gateway: ", StringComparison.Ordinal))
                {
                    gateway = line["gateway: ".Length..].Trim();
                }
            }

            if (gateway is null)
            {
                up.WaitForExit(5000);
                Assert.Fail($"alpaca up printed no gateway address (exited: {up.HasExited}); stderr:\n" + (up.HasExited ? await stderr : "(still running)"));
            }

            using var status = Process.Start(Alpaca("status", "--gateway", gateway!))!;
            var output = await status.StandardOutput.ReadToEndAsync();
            await status.WaitForExitAsync();
            Assert.True(status.ExitCode == 0, "alpaca status failed:\n" + output + await status.StandardError.ReadToEndAsync());
            foreach (var service in new[] { "gateway", "generator", "dedup", "trainer", "inference" })
            {
                Assert.Matches($"│ {service} +│ SERVING", output);
            }
        }
        finally
        {
            up.Kill(entireProcessTree: true);
            await up.WaitForExitAsync();
        }
    }

    public void Dispose() => _dir.Dispose();
}
