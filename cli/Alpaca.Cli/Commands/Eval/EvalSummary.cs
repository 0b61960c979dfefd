using System.Text.Json.Nodes;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>Means of ROUGE-L F (the model's and text-davinci-003's), per motivation app, and the judge's win rate.</summary>
internal static class EvalSummary
{
    public static JsonObject Of(IReadOnlyList<JsonObject> rows)
    {
        var summary = new JsonObject
        {
            ["items"] = rows.Count,
            ["rougeL_f_mean"] = Mean(rows, "rougeL_f"),
            ["davinci_rougeL_f_mean"] = Mean(rows, "davinci_rougeL_f"),
        };
        var apps = new JsonArray();
        foreach (var group in rows.GroupBy(r => r["motivation_app"]?.GetValue<string>() ?? "").OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            var list = group.ToList();
            apps.Add(new JsonObject
            {
                ["motivation_app"] = group.Key,
                ["items"] = list.Count,
                ["rougeL_f_mean"] = Mean(list, "rougeL_f"),
                ["davinci_rougeL_f_mean"] = Mean(list, "davinci_rougeL_f"),
            });
        }

        summary["by_motivation_app"] = apps;
        var judged = rows.Where(r => r["judge"] is JsonObject).ToList();
        if (judged.Count > 0)
        {
            var rate = WinRate.From(judged.Select(r => r["judge"]!["score"]!.GetValue<double>()));
            summary["judge"] = new JsonObject
            {
                ["model"] = judged[0]["judge"]!["model"]?.GetValue<string>(),
                ["versus"] = "text-davinci-003",
                ["items"] = judged.Count,
                ["wins"] = rate.Wins,
                ["ties"] = rate.Ties,
                ["losses"] = rate.Losses,
                ["win_rate"] = rate.Rate,
                ["ci95_low"] = rate.Low,
                ["ci95_high"] = rate.High,
                ["interval"] = "Wilson score, ties counted half",
                ["prompt_template"] = PairwiseJudge.Template,
            };
        }

        return summary;
    }

    /// <summary>The mean of a numeric field over the rows that have it; null when none does.</summary>
    public static double? Mean(IEnumerable<JsonObject> rows, string field)
    {
        var sum = 0.0;
        var n = 0;
        foreach (var row in rows)
        {
            if (row[field] is JsonValue value && value.TryGetValue<double>(out var x))
            {
                sum += x;
                n++;
            }
        }

        return n == 0 ? null : sum / n;
    }
}
