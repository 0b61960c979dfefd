using System.Diagnostics;
using System.Net.Sockets;

namespace Alpaca.TestSupport;

/// <summary>
/// A real <c>redis-server</c> (Debian package; <c>scripts/test.sh</c> installs it) started on a free
/// loopback port with a temporary folder, stopped on dispose. Share one per test class with
/// <c>IClassFixture&lt;RedisServer&gt;</c>.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly TempDir _dir = new("alpaca-redis");
    private readonly bool _persistent;
    private Process _process;

    public RedisServer()
        : this(persistent: false)
    {
    }

    /// <param name="persistent">Append-only file on, fsync'ed on every write (<see cref="PersistentRedisServer"/>), as the manifests' Redis runs.</param>
    internal RedisServer(bool persistent)
    {
        _persistent = persistent;
        Port = FreePort.Next();
        _process = Start();
    }

    /// <summary>Kills the server (SIGKILL) and starts a new one on the same port and folder: without persistence it
    /// comes back empty, like a Redis pod restarted without a volume; with it, with every acknowledged write.</summary>
    public void Restart()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
        _process.Dispose();
        _process = Start();
    }

    private Process Start()
    {
        var binary = FindOnPath("redis-server")
            ?? throw new InvalidOperationException("redis-server is not installed: run scripts/test.sh (it installs the Debian package redis-server) or apt-get install redis-server.");
        var process = Process.Start(new ProcessStartInfo(binary)
        {
            ArgumentList =
            {
                "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", _dir.Path, "--save", "",
                "--appendonly", _persistent ? "yes" : "no", "--appendfsync", "always", "--protected-mode", "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        WaitUntilAccepting(process);
        return process;
    }

    public int Port { get; }

    /// <summary>StackExchange.Redis connection string.</summary>
    public string Address => $"127.0.0.1:{Port}";

    private void WaitUntilAccepting(Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on port {Port}.");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"redis-server did not accept connections on port {Port} within 15 s.");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, name))
            .Concat(["/usr/bin/" + name, "/usr/local/bin/" + name])
            .FirstOrDefault(File.Exists);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            _dir.Dispose();
        }
    }
}

/// <summary>
/// A real <c>redis-server</c> with persistence on (AOF, fsync on every write: what the dev overlay's Redis runs with a
/// volume), whose <see cref="Restart"/> kills it and starts it again on its data. Share one per test class with
/// <c>IClassFixture&lt;PersistentRedisServer&gt;</c>.
/// </summary>
public sealed class PersistentRedisServer : IDisposable
{
    private readonly RedisServer _server = new(persistent: true);

    public string Address => _server.Address;

    public int Port => _server.Port;

    /// <summary>SIGKILL and a start on the same port and data folder: every acknowledged write is still there.</summary>
    public void Restart() => _server.Restart();

    public void Dispose() => _server.Dispose();
}
