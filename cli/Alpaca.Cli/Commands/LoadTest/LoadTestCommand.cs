using System.CommandLine;
using System.Globalization;
using Alpaca.Contracts.V1;

namespace Alpaca.Cli.Commands.LoadTest;

/// <summary>
/// <c>alpaca loadtest</c>: real gRPC generation streams at several concurrency levels; prints, per level,
/// aggregate generated tokens/s, time to first token p50/p99, inter-token latency p50/p99 and errors.
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
        var rounds = new Option<int>("--rounds") { Description = "Run all levels this many times in rotation and report each level's best round (on a shared machine, other processes' bursts then hit one round, not the figure).", DefaultValueFactory = _ => 1 };
        var command = new Command("loadtest", "Load-test the inference service with concurrent gRPC streams: tokens/s, TTFT and inter-token latency percentiles, errors.")
        {
            gateway, target, model, concurrency, maxTokens, duration, minRequests, instruction, temperature, topP, rounds,
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

            using var channel = CliAuth.Channel(uri, new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
            var client = new InferenceService.InferenceServiceClient(channel);
            var tokens = parse.GetValue(maxTokens);
            GenerateRequest Request() => new()
            {
                Model = parse.GetValue(model)!,
                Instruction = new AlpacaInstruction { Instruction = parse.GetValue(instruction)! },
                Sampling = new SamplingParameters { Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP) },
                Stopping = new StoppingCriteria { MaxTokens = tokens, IgnoreEos = true },
            };
            var runner = new LoadTestRunner(client, Request);

            Console.WriteLine($"# alpaca loadtest {address} model '{parse.GetValue(model)}' max-tokens {tokens}, temperature {parse.GetValue(temperature)}, top-p {parse.GetValue(topP)}, {parse.GetValue(duration)} s per level, {Math.Max(1, parse.GetValue(rounds))} round(s) (best reported); load average {LoadAverage()}");
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
