using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>
/// report.html: one self-contained file (inline CSS and SVG, no script, no external asset), so it opens from
/// disk, in the console and offline: the headline figures, a per-motivation-app table and bar chart, then every
/// item with its instruction and input, the answers beside the reference target, and their ROUGE-L F.
/// </summary>
internal static class EvalReport
{
    private const string Style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;width:100%;margin:12px 0}
        th,td{border:1px solid #ddd;padding:6px;vertical-align:top;text-align:left}th{background:#f4f4f4}
        td.n{text-align:right;white-space:nowrap}pre{white-space:pre-wrap;margin:0;font:13px/1.4 ui-monospace,monospace}
        .win{background:#e7f6e7}.loss{background:#fbeaea}.tie{background:#f6f3e0}
        """;

    public static string Single(string model, IReadOnlyList<JsonObject> rows, JsonObject summary)
    {
        var html = Begin($"Self-Instruct user-oriented evaluation: {model}");
        html.Append(CultureInfo.InvariantCulture, $"<p>{rows.Count} items. Mean ROUGE-L F against the reference target: <b>{model}</b> {F(summary["rougeL_f_mean"])}, text-davinci-003 {F(summary["davinci_rougeL_f_mean"])}.</p>");
        if (summary["judge"] is JsonObject judge)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<p>Judge {E(judge["model"]?.GetValue<string>())}: win rate vs text-davinci-003 <b>{Pct(judge["win_rate"])}</b> (95% Wilson interval {Pct(judge["ci95_low"])}–{Pct(judge["ci95_high"])}); {judge["wins"]} wins, {judge["ties"]} ties, {judge["losses"]} losses, both orders asked per item.</p>");
        }

        var apps = ((JsonArray)summary["by_motivation_app"]!).Select(a => (JsonObject)a!).ToList();
        html.Append("<h2>By motivation app</h2>");
        html.Append(Chart(apps.Select(a => (App(a), Num(a["rougeL_f_mean"]), Num(a["davinci_rougeL_f_mean"]))).ToList(), model, "text-davinci-003"));
        html.Append("<table><tr><th>motivation_app</th><th>items</th><th>").Append(E(model)).Append(" ROUGE-L F</th><th>text-davinci-003 ROUGE-L F</th></tr>");
        foreach (var a in apps)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(App(a))}</td><td class=n>{a["items"]}</td><td class=n>{F(a["rougeL_f_mean"])}</td><td class=n>{F(a["davinci_rougeL_f_mean"])}</td></tr>");
        }

        html.Append("</table><h2>Items</h2><table><tr><th>id / app</th><th>instruction and input</th><th>").Append(E(model))
            .Append("</th><th>text-davinci-003</th><th>reference target</th><th>judge</th></tr>");
        foreach (var row in rows)
        {
            var verdict = (row["judge"] as JsonObject)?["verdict"]?.GetValue<string>();
            html.Append(CultureInfo.InvariantCulture, $"<tr data-id=\"{E(S(row, "id"))}\" class=\"{verdict}\"><td>{E(S(row, "id"))}<br><small>{E(S(row, "motivation_app"))}</small></td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(row, "instruction"))}</pre>{(S(row, "input").Length > 0 ? "<hr><pre>" + E(S(row, "input")) + "</pre>" : "")}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(row, "output"))}</pre><small>ROUGE-L F {F(row["rougeL_f"])}</small></td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(row, "davinci"))}</pre><small>ROUGE-L F {F(row["davinci_rougeL_f"])}</small></td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(row, "target"))}</pre></td><td>{E(verdict ?? "")}</td></tr>");
        }

        return html.Append("</table></body></html>").ToString();
    }

    public static string Compare(string a, IReadOnlyList<JsonObject> rowsA, string b, IReadOnlyList<JsonObject> rowsB)
    {
        var byId = rowsB.ToDictionary(r => S(r, "id"), StringComparer.Ordinal);
        var pairs = rowsA.Where(r => byId.ContainsKey(S(r, "id"))).Select(r => (A: r, B: byId[S(r, "id")])).ToList();
        var html = Begin($"Side by side: {a} vs {b}");
        var meanA = EvalSummary.Mean(pairs.Select(p => p.A), "rougeL_f");
        var meanB = EvalSummary.Mean(pairs.Select(p => p.B), "rougeL_f");
        html.Append(CultureInfo.InvariantCulture, $"<p>{pairs.Count} items in both. Mean ROUGE-L F: <b>{E(a)}</b> {F(meanA)}, <b>{E(b)}</b> {F(meanB)}.</p>");
        var apps = pairs.GroupBy(p => S(p.A, "motivation_app")).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, EvalSummary.Mean(g.Select(p => p.A), "rougeL_f") ?? 0, EvalSummary.Mean(g.Select(p => p.B), "rougeL_f") ?? 0)).ToList();
        html.Append("<h2>By motivation app</h2>").Append(Chart(apps, a, b));
        html.Append("<h2>Items</h2><table><tr><th>id / app</th><th>instruction and input</th><th>").Append(E(a)).Append("</th><th>").Append(E(b)).Append("</th><th>reference target</th></tr>");
        foreach (var (ra, rb) in pairs)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr data-id=\"{E(S(ra, "id"))}\"><td>{E(S(ra, "id"))}<br><small>{E(S(ra, "motivation_app"))}</small></td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(ra, "instruction"))}</pre>{(S(ra, "input").Length > 0 ? "<hr><pre>" + E(S(ra, "input")) + "</pre>" : "")}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(ra, "output"))}</pre><small>ROUGE-L F {F(ra["rougeL_f"])}</small></td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(rb, "output"))}</pre><small>ROUGE-L F {F(rb["rougeL_f"])}</small></td>")
                .Append(CultureInfo.InvariantCulture, $"<td><pre>{E(S(ra, "target"))}</pre></td></tr>");
        }

        return html.Append("</table></body></html>").ToString();
    }

    /// <summary>Horizontal paired bars, ROUGE-L F on a 0–1 axis, one group per app (the 25 largest).</summary>
    private static string Chart(IReadOnlyList<(string App, double A, double B)> groups, string a, string b)
    {
        const int Label = 220, Width = 420, Bar = 9, Gap = 8;
        var shown = groups.Take(25).ToList();
        var height = 30 + (shown.Count * ((2 * Bar) + Gap));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"rouge-by-app\" width=\"{Label + Width + 60}\" height=\"{height}\" role=\"img\" aria-label=\"ROUGE-L F by motivation app\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Label}\" y=\"4\" width=\"10\" height=\"10\" fill=\"#3b7dd8\"/><text x=\"{Label + 14}\" y=\"13\" font-size=\"11\">{E(a)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Label + 200}\" y=\"4\" width=\"10\" height=\"10\" fill=\"#e08a2c\"/><text x=\"{Label + 214}\" y=\"13\" font-size=\"11\">{E(b)}</text>");
        var y = 24;
        foreach (var (app, va, vb) in shown)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Label - 6}\" y=\"{y + Bar + 3}\" font-size=\"11\" text-anchor=\"end\">{E(app.Length > 34 ? app[..33] + "…" : app)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Label}\" y=\"{y}\" width=\"{va * Width:F1}\" height=\"{Bar}\" fill=\"#3b7dd8\"><title>{E(a)}: {va:F4}</title></rect>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Label}\" y=\"{y + Bar}\" width=\"{vb * Width:F1}\" height=\"{Bar}\" fill=\"#e08a2c\"><title>{E(b)}: {vb:F4}</title></rect>");
            y += (2 * Bar) + Gap;
        }

        return svg.Append("</svg>").ToString();
    }

    private static StringBuilder Begin(string title) => new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .Append(E(title)).Append("</title><style>").Append(Style).Append("</style></head><body><h1>").Append(E(title)).Append("</h1>");

    private static string App(JsonObject a) => a["motivation_app"]?.GetValue<string>() ?? "";

    private static string S(JsonObject row, string field) => row[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    private static double Num(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var x) ? x : 0;

    private static string F(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var x) ? x.ToString("F4", CultureInfo.InvariantCulture) : "–";

    private static string F(double? x) => x?.ToString("F4", CultureInfo.InvariantCulture) ?? "–";

    private static string Pct(JsonNode? node) => (Num(node) * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
}
