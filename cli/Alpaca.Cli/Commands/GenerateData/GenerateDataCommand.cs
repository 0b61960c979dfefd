using System.CommandLine;
using System.Globalization;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using Spectre.Console;

namespace Alpaca.Cli.Commands.GenerateData;

/// <summary>
/// <c>alpaca generate-data</c>: Self-Instruct / Alpaca data generation against an OpenAI-compatible teacher,
/// embedded (in-process dedup, run state in <c>--out/.alpaca/runs</c>); re-running the same command resumes.
/// With <c>--gateway URL</c> the run goes to the generator service of a running platform instead and the command
/// shows its live progress (<see cref="RemoteGeneration"/>).
/// <c>alpaca generate-data bench</c>: throughput figures of the pipeline's own parts.
/// </summary>
public static class GenerateDataCommand
{
    public static Command Build()
    {
        var sampling = new TeacherSampling();
        var seeds = new Option<string?>("--seeds") { Description = "Seed tasks (the reference's seed_tasks.jsonl format)." };
        var teacherUrl = new Option<string?>("--teacher-url") { Description = "OpenAI-compatible base URL including /v1, e.g. https://api.openai.com/v1." };
        var teacherModel = new Option<string?>("--teacher-model") { Description = "Teacher model name, e.g. gpt-3.5-turbo-instruct." };
        var numInstructions = new Option<int>("--num-instructions") { Description = "Instructions to keep; the run stops at exactly this many.", DefaultValueFactory = _ => 100 };
        var output = new Option<string?>("--out") { Description = "Output folder: regen.json, alpaca_data.json and the run state (.alpaca/runs)." };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt file (e.g. the reference prompt.txt); default: our own prompt." };
        var concurrency = new Option<int>("--concurrency") { Description = "Rounds in flight at once.", DefaultValueFactory = _ => 1 };
        var api = new Option<string>("--api") { Description = "completions (the reference's endpoint) or chat.", DefaultValueFactory = _ => "completions" };
        var keyEnv = new Option<string>("--api-key-env") { Description = "Environment variable holding the API key.", DefaultValueFactory = _ => ApiKeySource.DefaultEnvironmentVariable };
        var keyFile = new Option<string?>("--api-key-file") { Description = "File holding the API key (wins over --api-key-env)." };
        var perPrompt = new Option<int>("--num-prompt-instructions") { Description = "Seed examples per prompt.", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--request-batch-size") { Description = "Prompts per round.", DefaultValueFactory = _ => 5 };
        var temperature = new Option<double>("--temperature") { Description = "Teacher temperature.", DefaultValueFactory = _ => sampling.Temperature };
        var topP = new Option<double>("--top-p") { Description = "Teacher top-p.", DefaultValueFactory = _ => sampling.TopP };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Teacher max tokens (cut to 80% on each context-length refusal).", DefaultValueFactory = _ => sampling.MaxTokens };
        var stop = new Option<string[]>("--stop") { Description = "Stop sequence (repeatable; escapes like \\n allowed). Default: the reference's \"\\n20\", \"20.\", \"20.\".", AllowMultipleArgumentsPerToken = false };
        var noLogitBias = new Option<bool>("--no-logit-bias") { Description = "Do not send the reference's logit_bias {\"50256\": -100} (for teachers with another vocabulary)." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the example sampling (default: drawn once and stored with the run)." };
        var extras = new Option<bool>("--dedup-extras") { Description = "Add most_similar_instructions and avg_similarity_score to regen.json, as the reference." };
        var cleaning = new Option<bool>("--cleaning") { Description = "Also apply the AlpacaDataCleaned checks (merged items, empty/N/A outputs, no-input spellings, image/URL tasks)." };
        var timeout = new Option<double>("--request-timeout") { Description = "Seconds per teacher request.", DefaultValueFactory = _ => 300 };
        var retries = new Option<int>("--max-retries") { Description = "Retries per request on 429/5xx/timeouts.", DefaultValueFactory = _ => 6 };
        var budget = new Option<double>("--unreachable-budget") { Description = "Seconds the teacher may stay unreachable before the run fails.", DefaultValueFactory = _ => 600 };
        var promptPrice = new Option<double>("--prompt-price") { Description = "Price per 1K prompt tokens (cost estimate).", DefaultValueFactory = _ => 0 };
        var completionPrice = new Option<double>("--completion-price") { Description = "Price per 1K completion tokens (cost estimate).", DefaultValueFactory = _ => 0 };
        var runId = new Option<string>("--run-id") { Description = "Run id inside --out (a different id starts another run).", DefaultValueFactory = _ => "generate" };
        var noBatch = new Option<bool>("--no-batch-prompts") { Description = "Completions: one request per prompt instead of one list per round." };
        var teacherName = new Option<string?>("--teacher") { Description = "With --gateway: a teacher configured on the service (Alpaca:Generator:Teachers:NAME), whose key the service holds. Instead of --teacher-url." };
        var gateway = new Option<string?>("--gateway") { Description = "Run in the generator service of a running platform (e.g. http://127.0.0.1:5080) and watch it; --out is then a path on the service (default: its data folder)." };

        var command = new Command("generate-data", "Generate Alpaca-style instruction data with a teacher model (Self-Instruct, exact reference parser, filters and ROUGE-L dedup).")
        {
            seeds, teacherUrl, teacherModel, numInstructions, output, prompt, concurrency, api, keyEnv, keyFile, perPrompt, batch,
            temperature, topP, maxTokens, stop, noLogitBias, seed, extras, cleaning, timeout, retries, budget, promptPrice, completionPrice,
            runId, noBatch, gateway, teacherName,
        };
        command.Subcommands.Add(GenerateBench.Build());

        command.SetAction(async (ParseResult parse, CancellationToken cancellationToken) =>
        {
            try
            {
                var gatewayUrl = parse.GetValue(gateway);
                var outDir = gatewayUrl is null ? Path.GetFullPath(Required(parse.GetValue(output), "--out"))
                    : parse.GetValue(output) is { Length: > 0 } remoteOut ? Path.GetFullPath(remoteOut) : "";
                var template = parse.GetValue(prompt) is { } promptPath ? PromptTemplate.FromFile(promptPath) : PromptTemplate.Default;
                var named = parse.GetValue(teacherName);
                if (named is not null && gatewayUrl is null)
                {
                    throw new GeneratorInputException("--teacher names a teacher configured on a generator service: use it with --gateway (a local run takes --teacher-url).");
                }

                // A named teacher's URL, model and key are the service's; --teacher-model may still pick a model when it configures none.
                var url = named is null ? Required(parse.GetValue(teacherUrl), "--teacher-url") : "http://named.invalid/v1";
                var model = named is null ? Required(parse.GetValue(teacherModel), "--teacher-model") : parse.GetValue(teacherModel) ?? "";
                var teacherApi = parse.GetValue(api)!.Trim().ToLowerInvariant() switch
                {
                    "completions" => TeacherApi.Completions,
                    "chat" or "chat-completions" => TeacherApi.ChatCompletions,
                    var other => throw new GeneratorInputException($"--api must be completions or chat; got '{other}'."),
                };
                if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
                {
                    throw new GeneratorInputException($"--teacher-url must be an http(s) URL; got '{url}'.");
                }

                var stops = parse.GetValue(stop) is { Length: > 0 } given ? given.Select(Unescape).ToList() : sampling.Stop;
                var spec = new SelfInstructRunSpec
                {
                    RunId = parse.GetValue(runId)!,
                    Seeds = SeedTaskReader.Read(Required(parse.GetValue(seeds), "--seeds")),
                    PromptText = template.Text,
                    PromptSource = template.Source,
                    NumInstructions = parse.GetValue(numInstructions),
                    OutputDir = outDir,
                    NumPromptInstructions = parse.GetValue(perPrompt),
                    RequestBatchSize = parse.GetValue(batch),
                    Sampling = sampling with
                    {
                        Temperature = parse.GetValue(temperature),
                        TopP = parse.GetValue(topP),
                        MaxTokens = parse.GetValue(maxTokens),
                        Stop = stops,
                        LogitBias = parse.GetValue(noLogitBias) ? new Dictionary<string, int>() : sampling.LogitBias,
                    },
                    Seed = parse.GetValue(seed),
                    DedupExtras = parse.GetValue(extras),
                    CleaningChecks = parse.GetValue(cleaning),
                    Concurrency = parse.GetValue(concurrency),
                    UnreachableBudget = TimeSpan.FromSeconds(parse.GetValue(budget)),
                    PromptPricePer1K = parse.GetValue(promptPrice),
                    CompletionPricePer1K = parse.GetValue(completionPrice),
                    Teacher = named ?? $"{baseUrl} {model} ({teacherApi})",
                };

                if (gatewayUrl is not null)
                {
                    if (!Uri.TryCreate(gatewayUrl, UriKind.Absolute, out var gatewayUri) || gatewayUri.Scheme is not ("http" or "https"))
                    {
                        throw new GeneratorInputException($"--gateway must be an http(s) URL; got '{gatewayUrl}'.");
                    }

                    if (parse.GetValue(keyFile) is not null)
                    {
                        throw new GeneratorInputException("--api-key-file is for local runs: a service reads a teacher's key only from its own configuration (name it with --teacher).");
                    }

                    var remoteTeacher = new RemoteGeneration.Teacher(named, named is null ? url : null, model, teacherApi, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(retries), parse.GetValue(noBatch));
                    return await RemoteGeneration.RunAsync(gatewayUri, RemoteGeneration.Request(spec, remoteTeacher, outDir.Length > 0 ? outDir : null), cancellationToken);
                }

                using var teacher = new OpenAiTeacherClient(new TeacherOptions
                {
                    BaseUrl = baseUrl,
                    Model = model,
                    Api = teacherApi,
                    ApiKey = ApiKeySource.Resolve(parse.GetValue(keyEnv), parse.GetValue(keyFile)),
                    Organization = Environment.GetEnvironmentVariable("OPENAI_ORG"),
                    RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    Retry = new RetryPolicy { MaxRetries = parse.GetValue(retries) },
                    BatchPrompts = !parse.GetValue(noBatch),
                });
                var store = new FileRunStore(Path.Combine(outDir, ".alpaca", "runs"));
                var publisher = new ConsolePublisher();
                var run = new GenerationRun(store, teacher, new InProcessDeduplicator(), publisher);
                var result = await GenerateProgressView.RunAsync(run, spec, cancellationToken);
                GenerateProgressView.PrintSummary(result);
                publisher.Print();
                return result.Status == RunStatus.Succeeded ? 0 : 1;
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine("[yellow]stopped[/]: kept records are saved; run the same command again to resume.");
                return 130;
            }
            catch (GeneratorInputException e)
            {
                AnsiConsole.MarkupLine("[red]error[/]: " + Markup.Escape(e.Message));
                return 2;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                AnsiConsole.MarkupLine("[red]error[/]: " + Markup.Escape(e.Message));
                return 1;
            }
        });
        return command;
    }

    private static string Required(string? value, string option) =>
        string.IsNullOrWhiteSpace(value) ? throw new GeneratorInputException($"{option} is required.") : value;

    /// <summary>Shells make "\n" hard to type; accept the escapes.</summary>
    private static string Unescape(string s) => s.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal);

    /// <summary>The embedded default has no pub/sub: the event is a line on the console once the display is done.</summary>
    private sealed class ConsolePublisher : IDatasetPublisher
    {
        private DatasetPublication? _last;

        public Task PublishAsync(DatasetPublication publication, CancellationToken cancellationToken = default)
        {
            _last = publication;
            return Task.CompletedTask;
        }

        public void Print()
        {
            if (_last is { } p)
            {
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[green]published[/] dataset [bold]{0}[/]: {1} records, sha256 {2}", Markup.Escape(p.DatasetId), p.RecordCount, p.Sha256);
            }
        }
    }
}
