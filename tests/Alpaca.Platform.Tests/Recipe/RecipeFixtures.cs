using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Recipe;

/// <summary>Small inputs the recipe and eval tests write themselves, and a way to read a running alpaca's lines.</summary>
internal static class RecipeFixtures
{
    /// <summary>Instructions that share few words, so ROUGE-L keeps them all but the exact repeat.</summary>
    private static readonly string[] Instructions =
    [
        "Give three tips for staying healthy.", "What are the primary colors?", "Describe the structure of an atom.",
        "How can we reduce air pollution?", "Explain why the sky looks blue.", "Translate hello into French.",
        "Suggest a name for a bakery.", "Give three tips for staying healthy.", "List four planets of our solar system.",
        "Write a haiku about autumn leaves.", "Convert ten miles to kilometers.", "Who painted the Mona Lisa?",
        "Summarize the plot of Cinderella.", "Classify this animal: whale.", "Compose a tweet announcing spring sales.",
        "Find the capital city of Japan.", "Rewrite this sentence in passive voice.", "Calculate seven times eight.",
        "Name a famous Shakespeare play.", "Recommend one good science fiction novel.", "Define photosynthesis briefly.",
        "Generate a catchy slogan for recycling.", "Identify the verb: birds sing loudly.", "Outline steps to brew green tea.",
    ];

    /// <summary>24 Alpaca records; record 7 repeats record 0's instruction, so the ROUGE-L dedup rejects exactly it.</summary>
    public static byte[] Records()
    {
        var records = new JsonArray();
        for (var i = 0; i < Instructions.Length; i++)
        {
            records.Add(new JsonObject { ["instruction"] = Instructions[i], ["input"] = i % 5 == 3 ? $"Example {i}" : "", ["output"] = $"Answer {i}: a short and helpful reply." });
        }

        return Encoding.UTF8.GetBytes(records.ToJsonString());
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// A suite in the user-oriented format and text-davinci-003-style predictions in the same order. Item 3's
    /// reference answer carries the judge's marker GOOD, so the judge prefers it over the model's.
    /// </summary>
    public static (string Suite, string Predictions) Suite(TempDir dir, int count = 5)
    {
        var suite = new StringBuilder();
        var predictions = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var instruction = $"Task {i}: list {i + 2} things a gardener does in spring.";
            var input = i % 2 == 0 ? $"Garden size: {i + 1} acres" : "";
            var target = $"Plant seeds, water the beds and pull {i} weeds; then rest.";
            var app = i < 3 ? "Gardening" : "Planner";
            suite.Append(new JsonObject
            {
                ["id"] = $"user_oriented_task_{i}",
                ["motivation_app"] = app,
                ["instruction"] = instruction,
                ["instances"] = new JsonArray(new JsonObject { ["input"] = input, ["output"] = target }),
            }.ToJsonString()).Append('\n');
            predictions.Append(new JsonObject
            {
                ["prompt"] = instruction,
                ["instruction"] = instruction,
                ["input"] = input,
                ["response"] = i == 3 ? "GOOD: plant seeds and water them." : $"Water the beds, plant {i} seeds.",
                ["target"] = target,
            }.ToJsonString()).Append('\n');
        }

        var suitePath = dir.File("suite.jsonl");
        var predictionsPath = dir.File("predictions.jsonl");
        File.WriteAllText(suitePath, suite.ToString());
        File.WriteAllText(predictionsPath, predictions.ToString());
        return (suitePath, predictionsPath);
    }

    /// <summary>A running alpaca process whose stdout lines are collected as they come.</summary>
    public sealed class Running : IDisposable
    {
        private readonly List<string> _lines = [];
        private readonly StringBuilder _err = new();

        public Running(ProcessStartInfo start)
        {
            Process = Process.Start(start)!;
            Process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_lines)
                    {
                        _lines.Add(e.Data);
                    }
                }
            };
            Process.ErrorDataReceived += (_, e) =>
            {
                lock (_err)
                {
                    _err.AppendLine(e.Data);
                }
            };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_lines)
                {
                    return string.Join('\n', _lines);
                }
            }
        }

        public string Errors
        {
            get
            {
                lock (_err)
                {
                    return _err.ToString();
                }
            }
        }

        /// <summary>The first stdout line that starts with <paramref name="prefix"/> (its rest), waiting for it.</summary>
        public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                lock (_lines)
                {
                    if (_lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } line)
                    {
                        return line[prefix.Length..].Trim();
                    }
                }

                if (Process.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"no '{prefix}' line (exited: {Process.HasExited}).\nstdout:\n{Output}\nstderr:\n{Errors}");
                }

                await Task.Delay(100);
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }

            Process.Dispose();
        }
    }
}
