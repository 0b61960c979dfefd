using System.Diagnostics;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;

namespace Alpaca.Generator.Api.Tests.Support;

/// <summary>
/// The generator service as a child process (<c>dotnet Alpaca.Generator.Api.dll</c>, the service's own
/// Program.cs) configured through the environment, so a test can kill it without warning, as a crash or an
/// OOM kill would.
/// </summary>
public sealed class GeneratorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly GrpcChannel _channel;
    private readonly System.Text.StringBuilder _log = new();

    private GeneratorProcess(Process process, int grpcPort)
    {
        _process = process;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        Client = new GeneratorService.GeneratorServiceClient(_channel);
    }

    public GeneratorService.GeneratorServiceClient Client { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The host's dll in its own build output (same configuration as these tests).</summary>
    private static string HostDll()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(RepoPaths.Root, "services", "generator", "Alpaca.Generator.Api", "bin", configuration, "net10.0", "Alpaca.Generator.Api.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the generator host first: {dll} is missing.", dll);
    }

    public static async Task<GeneratorProcess> StartAsync(string? stateDir, string? redis, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var grpcPort = FreePort.Next();
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(HostDll());
        var settings = GeneratorHost.Settings(grpcPort, FreePort.Next(), stateDir, redis);
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        var process = Process.Start(info)!;
        var host = new GeneratorProcess(process, grpcPort);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Ready when it answers ListRuns.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await host.Client.ListRunsAsync(new ListRunsRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                return host;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (RpcException e)
            {
                throw new InvalidOperationException($"The generator process did not start ({e.Status.Detail}); its log:\n{host.Log}", e);
            }
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
