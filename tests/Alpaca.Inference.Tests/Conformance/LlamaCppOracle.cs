using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Conformance;

/// <summary>
/// llama.cpp's logits for a token sequence, from the prebuilt llama.cpp in node-llama-cpp
/// (<c>llama-logits.mjs</c> beside this file). Fails, never skips, with a message naming
/// scripts/setup-oracle.sh when the package is missing.
/// </summary>
internal static class LlamaCppOracle
{
    public sealed record Result(float[][] Logits, int[] Greedy, float[][] GreedyLogits);

    public static Result Evaluate(string modelPath, IReadOnlyList<int> tokens, int greedy, bool flashAttention)
    {
        var package = Path.Combine(RepoPaths.Root, "tools", "llama-oracle", "node_modules", "node-llama-cpp");
        if (!Directory.Exists(package))
        {
            throw new InvalidOperationException($"llama.cpp (node-llama-cpp) is not installed at {package}: run scripts/setup-oracle.sh (needs node >= 20 and npm).");
        }

        var script = Path.Combine(RepoPaths.Root, "tests", "Alpaca.Inference.Tests", "Conformance", "llama-logits.mjs");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var request = new JsonObject
        {
            ["model"] = modelPath,
            ["tokens"] = new JsonArray(tokens.Select(t => (JsonNode)t).ToArray()),
            ["greedy"] = greedy,
            ["flashAttention"] = flashAttention,
            ["threads"] = 1,
            ["contextSize"] = 256,
        };
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("llama-logits.mjs did not finish within 5 minutes.");
        }

        var output = stdout.Result;
        var response = output.Length > 0 ? JsonNode.Parse(output) as JsonObject : null;
        if (process.ExitCode != 0 || response is null || response["error"] is not null)
        {
            throw new InvalidOperationException($"llama-logits.mjs failed (exit {process.ExitCode}): {response?["error"]?.ToString() ?? output}\n{stderr.Result}");
        }

        static float[][] Rows(JsonNode? node) => node!.AsArray().Select(r => r!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray()).ToArray();
        return new Result(Rows(response["logits"]), response["greedy"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray(), Rows(response["greedyLogits"]));
    }
}
