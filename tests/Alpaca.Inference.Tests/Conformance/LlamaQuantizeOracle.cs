using System.Diagnostics;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Conformance;

/// <summary>
/// llama.cpp's own llama-quantize: bench/llama-cpp/llama-quantize.c (a few lines calling
/// <c>llama_model_quantize</c>) compiled with gcc against the prebuilt libllama of node-llama-cpp
/// (scripts/setup-oracle.sh). Fails, never skips, when the oracle or gcc is missing.
/// </summary>
internal static class LlamaQuantizeOracle
{
    private static readonly Lazy<string> Binary = new(Build);

    private static string Libraries => Path.Combine(RepoPaths.Root, "tools", "llama-oracle", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");

    /// <summary>Quantizes <paramref name="source"/> (F32/F16 GGUF) to <paramref name="destination"/> as llama_ftype <paramref name="ftype"/>.</summary>
    public static void Quantize(string source, string destination, int ftype)
    {
        var start = new ProcessStartInfo(Binary.Value) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(Libraries, "libllama.v0.5.0.so"));
        start.ArgumentList.Add(source);
        start.ArgumentList.Add(destination);
        start.ArgumentList.Add(ftype.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.Environment["LD_LIBRARY_PATH"] = Libraries;
        Run(start, "llama-quantize");
    }

    private static string Build()
    {
        if (!File.Exists(Path.Combine(Libraries, "libllama.v0.5.0.so")))
        {
            throw new InvalidOperationException($"llama.cpp (node-llama-cpp) is not installed at {Libraries}: run scripts/setup-oracle.sh (needs node >= 20 and npm).");
        }

        var output = Path.Combine(Path.GetTempPath(), $"alpaca-llama-quantize-{Environment.ProcessId}");
        var start = new ProcessStartInfo("gcc") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-O1", "-o", output, Path.Combine(RepoPaths.Root, "bench", "llama-cpp", "llama-quantize.c"), "-ldl" })
        {
            start.ArgumentList.Add(arg);
        }

        Run(start, "gcc (installed by scripts/setup.sh)");
        return output;
    }

    private static void Run(ProcessStartInfo start, string what)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {what}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish within 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed (exit {process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
        }
    }
}
