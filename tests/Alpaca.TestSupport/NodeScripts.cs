using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
namespace Alpaca.TestSupport;

/// <summary>
/// Runs the Node scripts of tools/llama-oracle (llama.cpp through node-llama-cpp, and the npm reference
/// tokenizers and real LLaMA-2 / Llama-3 vocabularies) with one JSON request and returns the JSON response.
/// Tests call it once per class.
/// Fails — never skips — with a message naming scripts/setup-oracle.sh when the packages are missing.
/// </summary>
public static class NodeScripts
{
    public static string OracleDir => Path.Combine(RepoPaths.Root, "tools", "llama-oracle");

    public static JsonObject Oracle(JsonObject request, string modelPath) => Run("oracle.mjs", request, "--model", modelPath);

    public static JsonObject Reference(JsonObject request) => Run("reference-tokenizers.mjs", request);

    public static string JinjaOracleDir => Path.Combine(RepoPaths.Root, "tools", "jinja-oracle");

    /// <summary>Renders chat templates with @huggingface/jinja (tools/jinja-oracle/render.mjs).</summary>
    public static JsonObject Jinja(JsonObject request)
    {
        if (!Directory.Exists(Path.Combine(JinjaOracleDir, "node_modules", "@huggingface", "jinja")))
        {
            throw new InvalidOperationException(
                "The chat-template oracle is not installed (tools/jinja-oracle/node_modules/@huggingface/jinja is missing): run scripts/setup-oracle.sh (needs node >= 20 and npm).");
        }

        return RunIn(JinjaOracleDir, "render.mjs", request);
    }

    public static JsonObject Run(string script, JsonObject request, params string[] args)
    {
        EnsureInstalled();
        return RunIn(OracleDir, script, request, args);
    }

    private static JsonObject RunIn(string dir, string script, JsonObject request, params string[] args)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(dir, script));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish within 5 minutes.");
        }

        var output = stdout.Result;
        var response = output.Length > 0 ? JsonNode.Parse(output) as JsonObject : null;
        if (process.ExitCode != 0 || response is null || response["error"] is not null)
        {
            throw new InvalidOperationException(
                $"node {script} failed (exit {process.ExitCode}): {response?["error"]?.ToString() ?? Truncate(output)}\n{Truncate(stderr.Result)}");
        }

        return response;
    }

    private static void EnsureInstalled()
    {
        foreach (var package in new[] { "node-llama-cpp", "llama-tokenizer-js", Path.Combine("@lenml", "tokenizer-llama3") })
        {
            if (!Directory.Exists(Path.Combine(OracleDir, "node_modules", package)))
            {
                throw new InvalidOperationException(
                    $"The llama.cpp oracle is not installed (tools/llama-oracle/node_modules/{package} is missing): run scripts/setup-oracle.sh (needs node >= 20 and npm).");
            }
        }
    }

    private static string Truncate(string text) => text.Length <= 4000 ? text : text[..4000] + "…";
}
