using System.Diagnostics;
using System.Reflection;
using System.Runtime.Versioning;
using System.Text;

namespace Alpaca.TestSupport;

/// <summary>
/// Runs the built <c>alpaca</c> command line as a real process, from the CLI's own build output
/// (<c>cli/Alpaca.Cli/bin/CONFIGURATION/TFM/alpaca.dll</c>, as the <c>alpaca</c> launcher does). A test project
/// that uses it references <c>cli/Alpaca.Cli</c> with <c>ReferenceOutputAssembly="false"</c>: the CLI is built
/// first, and neither its code nor its dependencies (TorchSharp among them) are copied into the test output.
/// </summary>
public static class AlpacaCli
{
    private static readonly Lazy<string> LazyDll = new(FindDll);

    /// <summary>How to start <c>alpaca ARGS</c> with its output redirected (UTF-8), for a test that drives the process itself.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(LazyDll.Value);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        return start;
    }

    /// <summary>Runs <c>alpaca ARGS</c> to its end: exit code, stdout, stderr.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(TimeSpan timeout, params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"alpaca {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:F0} s");
        }

        return (process.ExitCode, await output, await error);
    }

    public static (int Code, string Out, string Err) Run(params string[] args) => Run(new Dictionary<string, string?>(), args);

    /// <summary>Runs <c>alpaca ARGS</c> with environment variables set (a null value removes one).</summary>
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = StartInfo(args);
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("alpaca " + string.Join(' ', args) + " did not finish in 120 s");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>The CLI built in this assembly's configuration and target framework.</summary>
    private static string FindDll()
    {
        var assembly = typeof(AlpacaCli).Assembly;
        var configuration = assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var framework = new Version(assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName.Split("Version=v")[1]);
        var dll = Path.Combine(RepoPaths.Root, "cli", "Alpaca.Cli", "bin", configuration, $"net{framework.Major}.{framework.Minor}", "alpaca.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{dll} is not built: reference cli/Alpaca.Cli from the test project (ReferenceOutputAssembly=\"false\").", dll);
    }
}
