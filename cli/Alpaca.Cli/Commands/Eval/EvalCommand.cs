using System.CommandLine;
using System.Globalization;
using System.Net.Http;
using Alpaca.Cli.Commands.Recipe;
using Grpc.Core;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Eval;

/// <summary>
/// <c>alpaca eval</c>: the Self-Instruct user-oriented evaluation (252 instructions) of a served model, ours
/// through the gateway or any OpenAI-compatible server, against text-davinci-003's answers and the reference
/// targets; resumable; results.jsonl, summary.json and a self-contained report.html. <c>--compare A B</c>
/// puts two results files side by side.
/// </summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var gateway = new Option<string?>("--gateway") { Description = "Our platform's gateway gRPC URL (the 'gateway:' line of alpaca up / alpaca recipe); sends $ALPACA_API_KEY or --api-key." };
        var baseUrl = new Option<string?>("--base-url") { Description = "Any OpenAI-compatible server's base URL including /v1 (vLLM, llama.cpp, OpenAI, or our <gateway-http>/v1)." };
        var api = new Option<string>("--api") { Description = "With --base-url: chat (/chat/completions, the instruction and input as one user message) or completions (/completions with the Alpaca prompt).", DefaultValueFactory = _ => "chat" };
        var keyEnv = new Option<string>("--base-url-key-env") { Description = "With --base-url: environment variable holding its API key (default: the --api-key / $ALPACA_API_KEY of the platform).", DefaultValueFactory = _ => "OPENAI_API_KEY" };
        var model = new Option<string?>("--model") { Description = "Model name to ask." };
        var output = new Option<string?>("--out") { Description = "Output folder: results.jsonl (resumable), summary.json, report.html." };
        var limit = new Option<int>("--limit") { Description = "Only the first N instructions (0 = all 252).", DefaultValueFactory = _ => 0 };
        var suite = new Option<string?>("--suite") { Description = "Suite file (user_oriented_instructions.jsonl format); default: fetched from yizhongw/self-instruct and checked by its SHA-256." };
        var predictions = new Option<string?>("--predictions") { Description = "text-davinci-003 predictions in the suite's order; default: fetched and checked like the suite (with --suite given, none unless named)." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Answer length limit in tokens.", DefaultValueFactory = _ => 256 };
        var judgeUrl = new Option<string?>("--judge-base-url") { Description = "Pairwise judging against text-davinci-003 by an OpenAI-compatible chat model at this base URL (both orders asked)." };
        var judgeModel = new Option<string?>("--judge-model") { Description = "The judge's model name." };
        var judgeKeyEnv = new Option<string>("--judge-key-env") { Description = "Environment variable holding the judge's API key.", DefaultValueFactory = _ => "OPENAI_API_KEY" };
        var compare = new Option<string[]>("--compare") { Description = "Two results.jsonl files to put side by side (writes report.html in --out).", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true };
        var reportsDir = new Option<string?>("--reports-dir") { Description = "Also copy report.html into this folder (the console's Alpaca:Console:ReportsDir; alpaca up's default is <state>/reports)." };
        var cache = new Option<string>("--cache") { Description = "Where fetched suite files are kept.", DefaultValueFactory = _ => Path.Combine(".alpaca", "downloads") };

        var command = new Command("eval", "Evaluate a served model on the Self-Instruct user-oriented instructions: ROUGE-L vs the targets, text-davinci-003 side by side, optional pairwise judge.")
        {
            gateway, baseUrl, api, keyEnv, model, output, limit, suite, predictions, maxTokens, judgeUrl, judgeModel, judgeKeyEnv, compare, reportsDir, cache,
        };
        command.SetAction(async (ParseResult parse, CancellationToken cancellationToken) =>
        {
            try
            {
                var outDir = parse.GetValue(output) ?? throw new ArgumentException("--out is required.");
                if (parse.GetValue(compare) is { Length: 2 } files)
                {
                    return Compare(files[0], files[1], outDir, parse.GetValue(reportsDir));
                }

                var name = parse.GetValue(model) ?? throw new ArgumentException("--model is required.");
                var (suitePath, predictionsPath) = await SuiteFilesAsync(parse.GetValue(suite), parse.GetValue(predictions), parse.GetValue(cache)!, cancellationToken);
                var items = EvalSuite.Load(suitePath, predictionsPath);
                if (parse.GetValue(limit) is > 0 and var n)
                {
                    items = items.Take(n).ToList();
                }

                using var disposables = new Disposables();
                var answers = Answers(parse.GetValue(gateway), parse.GetValue(baseUrl), parse.GetValue(api)!, Environment.GetEnvironmentVariable(parse.GetValue(keyEnv)!) ?? CliAuth.Key, name, parse.GetValue(maxTokens), disposables);
                PairwiseJudge? judge = null;
                if (parse.GetValue(judgeUrl) is { } judgeAt)
                {
                    var http = disposables.Add(new OpenAiHttp(AbsoluteUrl(judgeAt, "--judge-base-url"), Environment.GetEnvironmentVariable(parse.GetValue(judgeKeyEnv)!)));
                    judge = new PairwiseJudge(http, parse.GetValue(judgeModel) ?? throw new ArgumentException("--judge-base-url needs --judge-model."));
                }

                var settings = new EvalSettings { Items = items, Answers = answers, ModelLabel = name, OutDir = outDir, Judge = judge, ReportsDir = parse.GetValue(reportsDir) };
                var outcome = await RunWithProgressAsync(settings, cancellationToken);
                PrintOutcome(outcome);
                return 0;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("alpaca eval: stopped; finished items are in results.jsonl, run the same command again to go on.");
                return 130;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or IOException or HttpRequestException or RpcException or InvalidOperationException)
            {
                Console.Error.WriteLine("alpaca eval: error: " + (e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message));
                return 1;
            }
        });
        return command;
    }

    /// <summary>The eval the recipe runs at its end, through the same code as the command.</summary>
    internal static async Task<EvalOutcome> RunWithProgressAsync(EvalSettings settings, CancellationToken cancellationToken, Action<int, int, double>? progress = null)
    {
        var last = DateTime.MinValue;
        progress ??= (done, total, rate) =>
        {
            // Plain lines at most every 2 s (and the last one), with throughput and ETA.
            if (done < total && DateTime.UtcNow - last < TimeSpan.FromSeconds(2))
            {
                return;
            }

            last = DateTime.UtcNow;
            var eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[eval] {done}/{total} items  {rate:F2} items/s  ETA {eta:hh\\:mm\\:ss}"));
        };
        return await EvalRunner.RunAsync(settings, progress, cancellationToken);
    }

    internal static void PrintOutcome(EvalOutcome outcome)
    {
        var summary = EvalSummary.Of(outcome.Rows);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"eval: {outcome.Rows.Count} items; ROUGE-L F mean {EvalRunner.Format(summary["rougeL_f_mean"]?.GetValue<double>() ?? 0)} (text-davinci-003 {EvalRunner.Format(summary["davinci_rougeL_f_mean"]?.GetValue<double>() ?? 0)}); answered {outcome.Answered} this run in {outcome.Seconds:F1} s ({outcome.ItemsPerSecond:F2} items/s)"));
        if (summary["judge"] is { } judge)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"judge: win rate {judge["win_rate"]!.GetValue<double>():F4} (95% CI {judge["ci95_low"]!.GetValue<double>():F4}–{judge["ci95_high"]!.GetValue<double>():F4}); {judge["wins"]} wins, {judge["ties"]} ties, {judge["losses"]} losses"));
        }

        Console.WriteLine($"report: {outcome.ReportPath}");
        if (outcome.CopiedReport is { } copy)
        {
            Console.WriteLine($"report-copy: {copy}");
        }
    }

    /// <summary>The suite and predictions: the given files, or both fetched from their origin and checked by SHA-256.</summary>
    internal static async Task<(string Suite, string? Predictions)> SuiteFilesAsync(string? suite, string? predictions, string cache, CancellationToken cancellationToken)
    {
        if (suite is not null)
        {
            return (suite, predictions);
        }

        var fetchedSuite = await VerifiedDownload.FetchAsync(VerifiedDownload.UserOrientedSuite, cache, Console.WriteLine, cancellationToken);
        return (fetchedSuite, predictions ?? await VerifiedDownload.FetchAsync(VerifiedDownload.DavinciPredictions, cache, Console.WriteLine, cancellationToken));
    }

    private static IAnswerSource Answers(string? gateway, string? baseUrl, string api, string? key, string model, int maxTokens, Disposables disposables)
    {
        if ((gateway is null) == (baseUrl is null))
        {
            throw new ArgumentException("give exactly one of --gateway URL (our platform, gRPC) or --base-url URL (any OpenAI-compatible server).");
        }

        if (gateway is not null)
        {
            return new GatewayAnswers(disposables.Add(CliAuth.Channel(AbsoluteUrl(gateway, "--gateway"))), model, maxTokens);
        }

        var chat = api.Trim().ToLowerInvariant() switch
        {
            "chat" or "chat-completions" => true,
            "completions" => false,
            var other => throw new ArgumentException($"--api must be chat or completions; got '{other}'."),
        };
        return new OpenAiAnswers(disposables.Add(new OpenAiHttp(AbsoluteUrl(baseUrl!, "--base-url"), key)), model, chat, maxTokens);
    }

    private static int Compare(string a, string b, string outDir, string? reportsDir)
    {
        var rowsA = ResultsFile.Read(a);
        var rowsB = ResultsFile.Read(b);
        Directory.CreateDirectory(outDir);
        var labelA = rowsA.FirstOrDefault()?["model"]?.GetValue<string>() ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(a))) ?? "A";
        var labelB = rowsB.FirstOrDefault()?["model"]?.GetValue<string>() ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(b))) ?? "B";
        if (labelA == labelB)
        {
            (labelA, labelB) = (labelA + " (A)", labelB + " (B)");
        }

        var report = Path.Combine(outDir, "report.html");
        File.WriteAllText(report, EvalReport.Compare(labelA, rowsA, labelB, rowsB));
        Console.WriteLine($"compare: {labelA} ({rowsA.Count} rows) vs {labelB} ({rowsB.Count} rows)");
        Console.WriteLine($"report: {report}");
        if (EvalRunner.CopyToReports(report, reportsDir, $"compare-{labelA}-vs-{labelB}") is { } copy)
        {
            Console.WriteLine($"report-copy: {copy}");
        }

        return 0;
    }

    private static Uri AbsoluteUrl(string value, string option) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"{option} must be an http(s) URL; got '{value}'.");

    /// <summary>Channels and HTTP clients made for one command, disposed when it ends.</summary>
    private sealed class Disposables : IDisposable
    {
        private readonly List<IDisposable> _items = [];

        public T Add<T>(T item)
            where T : IDisposable
        {
            _items.Add(item);
            return item;
        }

        public void Dispose() => _items.ForEach(i => i.Dispose());
    }
}
