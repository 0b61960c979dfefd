using System.Diagnostics;
using System.Globalization;

namespace Alpaca.Cli.Commands.Engine;

/// <summary>
/// Runs llama.cpp's side of <c>alpaca bench --vs-llama-cpp</c>: <c>bench/llama-cpp/llama-bench.mjs</c> (the
/// prebuilt llama.cpp inside node-llama-cpp) on the same file with the same tests, right before ours, so
/// both columns come from one sitting of a noisy machine.
/// </summary>
internal static class LlamaCppBench
{
    /// <summary>tokens/s (median, stddev) and tokens per CPU-second (median) by (threads, test) for one model file.</summary>
    public static Dictionary<(int Threads, string Test), (double Median, double StdDev, double CpuMedian)> Run(
        string model, IReadOnlyList<int> threads, IReadOnlyList<int> pp, IReadOnlyList<int> tg, int repetitions, CancellationToken cancellationToken)
    {
        var script = FindScript();
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            script, "-m", Path.GetFullPath(model), "-t", string.Join(',', threads), "-p", pp.Count == 0 ? "" : string.Join(',', pp),
            "-n", tg.Count == 0 ? "" : string.Join(',', tg), "-r", repetitions.ToString(CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start node");
        using var registration = cancellationToken.Register(() => process.Kill(entireProcessTree: true));
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"llama.cpp benchmark failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
        }

        // Rows: | model | threads | test | t/s | ± | t/CPU-s |
        var results = new Dictionary<(int, string), (double, double, double)>();
        foreach (var line in stdout.Split('\n'))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length == 8 && int.TryParse(cells[2], NumberStyles.None, CultureInfo.InvariantCulture, out var t)
                && double.TryParse(cells[4], NumberStyles.Float, CultureInfo.InvariantCulture, out var median)
                && double.TryParse(cells[5], NumberStyles.Float, CultureInfo.InvariantCulture, out var sd)
                && double.TryParse(cells[6], NumberStyles.Float, CultureInfo.InvariantCulture, out var cpu))
            {
                results[(t, cells[3])] = (median, sd, cpu);
            }
        }

        return results;
    }

    private static string FindScript()
    {
        const string relative = "bench/llama-cpp/llama-bench.mjs";
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException($"{relative} not found above the current folder; run from the repository (node-llama-cpp comes from scripts/setup-oracle.sh).");
    }
}
