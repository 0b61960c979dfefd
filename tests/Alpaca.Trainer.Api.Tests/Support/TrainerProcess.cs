using System.Diagnostics;
using System.Globalization;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;

namespace Alpaca.Trainer.Api.Tests.Support;

/// <summary>
/// The trainer service as its own process (<c>dotnet Alpaca.Trainer.Api.dll</c>, configured through the
/// environment as in a container), so a test can kill it with SIGKILL mid-job and start it again on the
/// same state folder.
/// </summary>
internal sealed class TrainerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly GrpcChannel _channel;
    private readonly List<string> _log = [];

    private TrainerProcess(Process process, Uri address)
    {
        _process = process;
        _channel = GrpcChannel.ForAddress(address);
        Client = new TrainerService.TrainerServiceClient(_channel);
    }

    public TrainerService.TrainerServiceClient Client { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log.TakeLast(60));
            }
        }
    }

    /// <summary>
    /// Starts a trainer on <paramref name="stateDir"/>: the local state folder there, or the Redis at
    /// <paramref name="redis"/> (HOST:PORT); job outputs always in <c>jobs/</c> under it, so two processes started
    /// on one folder share their outputs as replicas share a volume. Leases last <paramref name="leaseTtl"/>
    /// (3 s unless given: a killed process's jobs resume after that long).
    /// </summary>
    public static async Task<TrainerProcess> StartAsync(string stateDir, string? redis = null, TimeSpan? leaseTtl = null)
    {
        var grpcPort = FreePort.Next();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = stateDir,
        };
        info.ArgumentList.Add(HostDll());
        info.Environment["Alpaca__Service__BindAddress"] = "127.0.0.1";
        info.Environment["Alpaca__Service__GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Alpaca__Service__HttpPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        info.Environment["Alpaca__Auth__Enabled"] = "false"; // called directly; not about authentication
        if (redis is null)
        {
            info.Environment["Alpaca__State__Store"] = "local";
            info.Environment["Alpaca__State__Path"] = Path.Combine(stateDir, "state");
        }
        else
        {
            info.Environment["Alpaca__State__Store"] = "redis";
            info.Environment["Alpaca__Redis"] = redis;
        }

        info.Environment["Alpaca__Trainer__LeaseTtl"] = (leaseTtl ?? TimeSpan.FromSeconds(3)).ToString("c", CultureInfo.InvariantCulture);
        info.Environment["Alpaca__Trainer__JobPollInterval"] = "00:00:00.300";
        info.Environment["Alpaca__Trainer__OutputRoot"] = Path.Combine(stateDir, "jobs");
        info.Environment["Alpaca__Paths__DataRoots"] = stateDir;
        info.Environment["Alpaca__Trainer__Threads"] = "2";
        info.Environment["Alpaca__Trainer__Device"] = "cpu";
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";

        info.Environment["HOSTNAME"] = "trainer-pod"; // the same pod name for every process: only the instance id tells them apart
        var process = Process.Start(info)!;
        var host = new TrainerProcess(process, new Uri($"http://127.0.0.1:{grpcPort}"));
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await host.WaitUntilServingAsync();
        return host;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, exactly like the OOM killer or a lost node.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    private async Task WaitUntilServingAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The trainer host exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                await Client.ListJobsAsync(new ListJobsRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>The host's dll: beside the tests when the build copied it there with its runtime config, else its own output.</summary>
    private static string HostDll()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "Alpaca.Trainer.Api.dll");
        if (File.Exists(Path.ChangeExtension(local, ".runtimeconfig.json")))
        {
            return local;
        }

        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0
        return Path.Combine(RepoPaths.Root, "services", "trainer", "Alpaca.Trainer.Api", "bin", configuration, "net10.0", "Alpaca.Trainer.Api.dll");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Add(line);
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
