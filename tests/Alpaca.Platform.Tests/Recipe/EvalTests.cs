using System.Globalization;
using System.Text.Json.Nodes;
using Alpaca.TestSupport;
using Xunit.Abstractions;

namespace Alpaca.Platform.Tests.Recipe;

/// <summary>
/// <c>alpaca eval</c> (a real process) against another OpenAI-compatible server and judge on loopback: the
/// rows of results.jsonl, their ROUGE-L F equal to rouge_score's algorithm run in Python, a rerun that only asks
/// what is missing, the self-contained report, the judge's win rate and its Wilson interval as Python computes
/// them, and two results files side by side.
/// </summary>
public sealed class EvalTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new("eval");

    [Fact]
    public async Task Eval_of_an_OpenAI_compatible_server_scores_resumes_judges_and_reports()
    {
        await using var server = new OpenAiLoopback();
        var (suite, predictions) = RecipeFixtures.Suite(_dir, 5);
        var outDir = _dir.File("out");
        var reports = _dir.File("reports");
        string[] args =
        [
            "eval", "--base-url", server.BaseUrl, "--model", "student", "--out", outDir, "--suite", suite, "--predictions", predictions,
            "--judge-base-url", server.BaseUrl, "--judge-model", "judge", "--reports-dir", reports,
        ];

        var first = await RunAsync([.. args, "--limit", "3"]);
        Assert.Contains("eval: 3 items", first);
        Assert.Equal((3, 6), (server.StudentRequests, server.JudgeRequests));

        // The rerun asks only the two items not yet done (and judges only them).
        var second = await RunAsync(args);
        output.WriteLine(second);
        Assert.Equal((5, 10), (server.StudentRequests, server.JudgeRequests));
        var lines = File.ReadAllLines(Path.Combine(outDir, "results.jsonl"));
        Assert.Equal(5, lines.Length);
        var rows = lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"user_oriented_task_{i}"), rows.Select(r => r["id"]!.GetValue<string>()));
        Assert.Equal(Enumerable.Range(0, 5).Select(OpenAiLoopback.Answer), rows.Select(r => r["output"]!.GetValue<string>()));
        Assert.Equal("Water the beds, plant 0 seeds.", rows[0]["davinci"]!.GetValue<string>());
        AssertRougeMatchesReference(rows);

        // Both orders asked; a pure position bias (task 2) is a tie; the prompts are stored with the row.
        Assert.Equal(["win", "win", "tie", "loss", "win"], rows.Select(r => r["judge"]!["verdict"]!.GetValue<string>()));
        var prompts = rows[3]["judge"]!["prompts"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Equal(2, prompts.Count);
        Assert.Contains("# Output (a):\n" + OpenAiLoopback.Answer(3), prompts[0]);
        Assert.Contains("# Output (a):\nGOOD: plant seeds and water them.", prompts[1]);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")))!;
        var judge = summary["judge"]!;
        var (rate, low, high) = PythonWilson(3, 1, 5);
        Assert.Equal(rate, judge["win_rate"]!.GetValue<double>(), 12);
        Assert.Equal(low, judge["ci95_low"]!.GetValue<double>(), 12);
        Assert.Equal(high, judge["ci95_high"]!.GetValue<double>(), 12);
        Assert.Equal(2, summary["by_motivation_app"]!.AsArray().Count);

        var html = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.Equal(5, html.Split("<tr data-id=\"user_oriented_task_").Length - 1);
        Assert.Contains("<svg", html);
        Assert.Contains("GOOD: plant seeds and water them.", html);
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotContain("href=", html);
        Assert.Equal(html, File.ReadAllText(Path.Combine(reports, "eval-student.html")));

        // Side by side with a second model's results (the same rows relabelled).
        var other = _dir.File("other.jsonl");
        File.WriteAllLines(other, rows.Select(r =>
        {
            var copy = r.DeepClone().AsObject();
            copy["model"] = "teacher";
            copy["output"] = "A different answer.";
            return copy.ToJsonString();
        }));
        var compareOut = _dir.File("compare");
        var compare = await RunAsync(["eval", "--compare", Path.Combine(outDir, "results.jsonl"), other, "--out", compareOut]);
        Assert.Contains("compare: student (5 rows) vs teacher (5 rows)", compare);
        var side = File.ReadAllText(Path.Combine(compareOut, "report.html"));
        Assert.Equal(5, side.Split("<tr data-id=").Length - 1);
        Assert.Contains("A different answer.", side);
    }

    /// <summary>rouge_score's ROUGE-L F (tokenizer, LCS table, F) transcribed in Python, against every row's two scores.</summary>
    internal static void AssertRougeMatchesReference(IReadOnlyList<JsonObject> rows)
    {
        const string script = """
            def tokenize(text):
                text = re.sub(r"[^a-z0-9]+", " ", text.lower())
                return [t for t in re.split(r"\s+", text) if re.match(r"^[a-z0-9]+$", t)]
            def lcs(x, y):
                table = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
                for i in range(1, len(x) + 1):
                    for j in range(1, len(y) + 1):
                        table[i][j] = table[i-1][j-1] + 1 if x[i-1] == y[j-1] else max(table[i-1][j], table[i][j-1])
                return table[-1][-1]
            def f(target, prediction):
                t, p = tokenize(target), tokenize(prediction)
                if not t or not p:
                    return 0.0
                l = lcs(t, p)
                precision, recall = l / len(p), l / len(t)
                return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
            for line in lines:
                target, prediction = line.split(' ')
                emit(d_out(f(s_in(target), s_in(prediction))))
            """;
        var pairs = rows.SelectMany(r => new[] { (r["target"]!.GetValue<string>(), r["output"]!.GetValue<string>()), (r["target"]!.GetValue<string>(), r["davinci"]!.GetValue<string>()) }).ToList();
        var expected = Python.Run(script, pairs.Select(p => Python.Hex(p.Item1) + " " + Python.Hex(p.Item2)))
            .Select(h => BitConverter.Int64BitsToDouble(long.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ToList();
        var actual = rows.SelectMany(r => new[] { r["rougeL_f"]!.GetValue<double>(), r["davinci_rougeL_f"]!.GetValue<double>() }).ToList();
        Assert.Equal(expected, actual);
        Assert.Contains(actual, x => x > 0 && x < 1);
    }

    /// <summary>The win rate (ties half) and the 95% Wilson score interval, with the z quantile from Python's statistics.NormalDist.</summary>
    private static (double Rate, double Low, double High) PythonWilson(int wins, int ties, int n)
    {
        var script = string.Create(CultureInfo.InvariantCulture, $$"""
            from statistics import NormalDist
            z = NormalDist().inv_cdf(0.975)
            n = {{n}}
            p = ({{wins}} + 0.5 * {{ties}}) / n
            centre = p + z * z / (2 * n)
            half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            emit(d_out(p)); emit(d_out((centre - half) / (1 + z * z / n))); emit(d_out((centre + half) / (1 + z * z / n)))
            """);
        var values = Python.Run(script).Select(h => BitConverter.Int64BitsToDouble(long.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ToArray();
        return (values[0], values[1], values[2]);
    }

    private async Task<string> RunAsync(string[] args)
    {
        var start = AlpacaCli.StartInfo(args);
        start.Environment["OPENAI_API_KEY"] = OpenAiLoopback.Key;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, await stdout + await stderr);
        return await stdout;
    }

    public void Dispose() => _dir.Dispose();
}
