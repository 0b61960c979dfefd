using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>What one evaluation asks: the items, where answers come from, the optional judge, where results go.</summary>
internal sealed record EvalSettings
{
    public required IReadOnlyList<EvalItem> Items { get; init; }

    public required IAnswerSource Answers { get; init; }

    public required string ModelLabel { get; init; }

    public required string OutDir { get; init; }

    public PairwiseJudge? Judge { get; init; }

    public string? ReportsDir { get; init; }
}

/// <summary>The figures of one evaluation, for the summary line, summary.json and the report.</summary>
internal sealed record EvalOutcome(List<JsonObject> Rows, int Answered, double Seconds, string ReportPath, string? CopiedReport)
{
    public double ItemsPerSecond => Seconds > 0 ? Answered / Seconds : 0;
}

/// <summary>
/// Runs the suite: for each item not yet in results.jsonl, the model's answer, its ROUGE-L F against the
/// reference target (our exact rouge_score engine, <see cref="RougeScore"/>, as text-davinci-003's answer is
/// scored too) and, with a judge, the pairwise verdict; each row appended durably before the next item. Then
/// summary.json and report.html from every row.
/// </summary>
internal static class EvalRunner
{
    public static async Task<EvalOutcome> RunAsync(EvalSettings settings, Action<int, int, double> progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(settings.OutDir);
        var results = new ResultsFile(Path.Combine(settings.OutDir, "results.jsonl"));
        var done = results.Load();
        var clock = Stopwatch.StartNew();
        var answered = 0;
        var finished = settings.Items.Count(i => IsComplete(done.GetValueOrDefault(i.Id), settings.Judge));
        progress(finished, settings.Items.Count, 0);
        foreach (var item in settings.Items)
        {
            var row = done.GetValueOrDefault(item.Id);
            if (IsComplete(row, settings.Judge))
            {
                continue;
            }

            // A row answered on an earlier run but not judged keeps its answer: only the judging is done now.
            if (row is null)
            {
                var started = clock.Elapsed;
                var answer = await settings.Answers.AnswerAsync(item, cancellationToken);
                row = Row(item, answer, settings.ModelLabel, (clock.Elapsed - started).TotalSeconds);
                answered++;
            }

            if (settings.Judge is { } judge && item.Davinci is { } davinci)
            {
                var verdict = await judge.JudgeAsync(item, row["output"]!.GetValue<string>(), davinci, cancellationToken);
                row["judge"] = verdict.ToJson(judge.Model);
            }

            results.Append(row);
            done[item.Id] = row;
            finished++;
            progress(finished, settings.Items.Count, clock.Elapsed.TotalSeconds > 0 ? answered / clock.Elapsed.TotalSeconds : 0);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var ordered = settings.Items.Where(i => done.ContainsKey(i.Id)).Select(i => done[i.Id]).ToList();
        var summary = EvalSummary.Of(ordered);
        summary["model"] = settings.ModelLabel;
        summary["source"] = settings.Answers.Describe;
        summary["answered_this_run"] = answered;
        summary["items_per_second_this_run"] = seconds > 0 ? answered / seconds : 0;
        File.WriteAllText(Path.Combine(settings.OutDir, "summary.json"), summary.ToJsonString(new() { WriteIndented = true }));
        var report = Path.Combine(settings.OutDir, "report.html");
        File.WriteAllText(report, EvalReport.Single(settings.ModelLabel, ordered, summary));
        var copied = CopyToReports(report, settings.ReportsDir, "eval-" + settings.ModelLabel);
        return new EvalOutcome(ordered, answered, seconds, report, copied);
    }

    public static JsonObject Row(EvalItem item, string answer, string model, double seconds) => new()
    {
        ["id"] = item.Id,
        ["motivation_app"] = item.App,
        ["instruction"] = item.Instruction,
        ["input"] = item.Input,
        ["target"] = item.Target,
        ["model"] = model,
        ["output"] = answer,
        ["rougeL_f"] = RougeScore.Score(item.Target, answer).FMeasure,
        ["davinci"] = item.Davinci,
        ["davinci_rougeL_f"] = item.Davinci is null ? null : RougeScore.Score(item.Target, item.Davinci).FMeasure,
        ["seconds"] = Math.Round(seconds, 4),
    };

    /// <summary>Copies a report into the console's reports folder under a file-safe name; returns the copy's path.</summary>
    public static string? CopyToReports(string report, string? reportsDir, string name)
    {
        if (reportsDir is null)
        {
            return null;
        }

        Directory.CreateDirectory(reportsDir);
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        var target = Path.Combine(reportsDir, safe + ".html");
        File.Copy(report, target, overwrite: true);
        return target;
    }

    private static bool IsComplete(JsonObject? row, PairwiseJudge? judge) =>
        row is not null && (judge is null || row["davinci"] is null || row["judge"] is not null);

    public static string Format(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
