using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Prompts;
using Grpc.Core;

namespace Alpaca.Cli.Commands.LoadTest;

/// <summary>
/// <c>alpaca loadtest</c>: real gRPC generation streams at several concurrency levels; prints, per level,
/// aggregate generated tokens/s, time to first token p50/p99, inter-token latency p50/p99 and errors.
/// With <c>--openai URL</c> the streams are OpenAI <c>/v1/completions</c> instead, to any compatible server
/// (ours or llama.cpp's), the prompt rendered here by <c>--template</c>.
/// </summary>
public static class LoadTestCommand
{
    public static Command Build()
    {
        var gateway = new Option<string?>("--gateway") { Description = "Gateway gRPC address (calls go through YARP)." };
        var target = new Option<string?>("--target") { Description = "Inference service gRPC address (direct, no gateway)." };
        var model = new Option<string>("--model") { Description = "Model name (empty = the default model).", DefaultValueFactory = _ => "" };
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Concurrent streams per level, comma-separated.", DefaultValueFactory = _ => "1,2,4,8,16" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens per request (EOS ignored, so every request generates exactly this many).", DefaultValueFactory = _ => 128 };
        var duration = new Option<double>("--duration") { Description = "Seconds each level keeps sending (requests in flight at the end finish).", DefaultValueFactory = _ => 20 };
        var minRequests = new Option<int>("--min-requests") { Description = "Requests each client sends at least, whatever the duration.", DefaultValueFactory = _ => 1 };
        var instruction = new Option<string>("--instruction") { Description = "Alpaca instruction each request carries.", DefaultValueFactory = _ => "Give three tips for staying healthy." };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature (0 = greedy).", DefaultValueFactory = _ => 0.8 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass (1 = off).", DefaultValueFactory = _ => 1.0 };
        var openAi = new Option<string?>("--openai") { Description = "OpenAI-compatible HTTP base URL: streaming POST /v1/completions instead of gRPC (any server: ours or llama.cpp's)." };
        var template = new Option<string>("--template") { Description = "With --openai: the prompt is the instruction in this template, alpaca (the shared Alpaca preamble) or raw (the instruction alone).", DefaultValueFactory = _ => "alpaca" };
        var distinct = new Option<bool>("--distinct") { Description = "Number each request's instruction (\"17. Give three…\"), so prompts differ from their start and only a template's preamble is a shared prefix." };
        var rounds = new Option<int>("--rounds") { Description = "Run all levels this many times in rotation and report each level's best round (on a shared machine, other processes' bursts then hit one round, not the figure).", DefaultValueFactory = _ => 1 };
        var command = new Command("loadtest", "Load-test the inference service with concurrent gRPC streams: tokens/s, TTFT and inter-token latency percentiles, errors.")
        {
            gateway, target, model, concurrency, maxTokens, duration, minRequests, instruction, temperature, topP, rounds, openAi, template, distinct,
        };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var address = parse.GetValue(target) ?? parse.GetValue(gateway) ?? Environment.GetEnvironmentVariable("ALPACA_GATEWAY") ?? "http://127.0.0.1:5080";
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
            {
                Console.Error.WriteLine($"alpaca loadtest: the address must be an absolute URL, got '{address}'.");
                return 2;
            }

            int[] levels;
            try
            {
                levels = parse.GetValue(concurrency)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            }
            catch (FormatException)
            {
                Console.Error.WriteLine("alpaca loadtest: --concurrency must be comma-separated integers, e.g. 1,2,4,8.");
                return 2;
            }

            var tokens = parse.GetValue(maxTokens);
            string Instruction(int n) => parse.GetValue(distinct) ? $"{n}. {parse.GetValue(instruction)}" : parse.GetValue(instruction)!;
            LoadTestRunner runner;
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            using var channel = CliAuth.Channel(uri, new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
            if (parse.GetValue(openAi) is { } openAiUrl)
            {
                if (!Uri.TryCreate(openAiUrl.TrimEnd('/') + "/", UriKind.Absolute, out var baseUri))
                {
                    Console.Error.WriteLine($"alpaca loadtest: --openai must be an absolute URL, got '{openAiUrl}'.");
                    return 2;
                }

                address = baseUri.ToString();
                try
                {
                    _ = PromptTemplates.Apply(parse.GetValue(template)!, "probe");
                }
                catch (ArgumentException ex)
                {
                    Console.Error.WriteLine($"alpaca loadtest: --template: {ex.Message}");
                    return 2;
                }

                var completions = new OpenAiCompletionStream(http, baseUri);
                JsonObject Body(int n)
                {
                    var body = new JsonObject
                    {
                        ["prompt"] = PromptTemplates.Apply(parse.GetValue(template)!, Instruction(n)),
                        ["max_tokens"] = tokens,
                        ["temperature"] = parse.GetValue(temperature),
                        ["top_p"] = parse.GetValue(topP),
                        ["stream"] = true,
                        ["stream_options"] = new JsonObject { ["include_usage"] = true },
                        ["ignore_eos"] = true,
                        ["logprobs"] = 0, // every chunk then names its tokens (OpenAiCompletionStream)
                    };
                    if (parse.GetValue(model) is { Length: > 0 } name)
                    {
                        body["model"] = name;
                    }

                    return body;
                }

                runner = new LoadTestRunner((n, c) => completions.RunAsync(Body(n), c));
            }
            else
            {
                var client = new InferenceService.InferenceServiceClient(channel);
                GenerateRequest Request(int n) => new()
                {
                    Model = parse.GetValue(model)!,
                    Instruction = new AlpacaInstruction { Instruction = Instruction(n) },
                    Sampling = new SamplingParameters { Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP) },
                    Stopping = new StoppingCriteria { MaxTokens = tokens, IgnoreEos = true },
                };
                runner = new LoadTestRunner((n, c) => GrpcDeltas(client, Request(n), c));
            }

            Console.WriteLine($"# alpaca loadtest {address} model '{parse.GetValue(model)}'{(parse.GetValue(openAi) is null ? " gRPC" : $" OpenAI /v1/completions, template {parse.GetValue(template)}")}{(parse.GetValue(distinct) ? ", distinct instructions" : "")}, max-tokens {tokens}, temperature {parse.GetValue(temperature)}, top-p {parse.GetValue(topP)}, {parse.GetValue(duration)} s per level, {Math.Max(1, parse.GetValue(rounds))} round(s) (best reported); load average {LoadAverage()}");
            await runner.RunAsync(1, TimeSpan.Zero, 1, ct); // warm-up: JIT, connections, page cache
            Console.WriteLine("| concurrency | requests | errors | tokens | aggregate tok/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var anyErrors = false;
            var best = new Dictionary<int, LoadLevelResult>();
            for (var round = 0; round < Math.Max(1, parse.GetValue(rounds)); round++)
            {
                foreach (var level in levels)
                {
                    var r = await runner.RunAsync(level, TimeSpan.FromSeconds(parse.GetValue(duration)), parse.GetValue(minRequests), ct);
                    anyErrors |= r.Errors > 0;
                    if (!best.TryGetValue(level, out var b) || r.TokensPerSecond > b.TokensPerSecond || r.Errors > 0)
                    {
                        // A round with errors is always reported: errors must not be hidden by a better round.
                        best[level] = b is { Errors: > 0 } ? b : r;
                    }
                }
            }

            foreach (var level in levels)
            {
                var r = best[level];
                var errors = r.Errors == 0 ? "0" : $"{r.Errors} ({string.Join(", ", r.ErrorsByStatus.Select(e => $"{e.Key}×{e.Value}"))})";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {level} | {r.Requests} | {errors} | {r.Tokens} | {r.TokensPerSecond:F1} | {LoadLevelResult.Percentile(r.TimeToFirstTokenMs, 50):F0} | {LoadLevelResult.Percentile(r.TimeToFirstTokenMs, 99):F0} | {LoadLevelResult.Percentile(r.InterTokenMs, 50):F1} | {LoadLevelResult.Percentile(r.InterTokenMs, 99):F1} |"));
            }

            Console.WriteLine($"# load average at end {LoadAverage()}");
            return anyErrors ? 1 : 0;
        });
        return command;
    }

    private static async IAsyncEnumerable<StreamDelta> GrpcDeltas(InferenceService.InferenceServiceClient client, GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = client.Generate(request, cancellationToken: cancellationToken);
        await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            if (message.EventCase == GenerateResponse.EventOneofCase.Delta && message.Delta.Tokens.Count > 0)
            {
                yield return new StreamDelta(message.Delta.Tokens.Count);
            }
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
