using System.CommandLine;
using Alpaca.Inference.Api;
using Alpaca.Inference.Api.Models;
using Alpaca.Llm.Hub;
using Alpaca.Platform;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Platform;

/// <summary><c>alpaca up</c>: every service and the gateway in one process on 127.0.0.1.</summary>
public static class UpCommand
{
    public static Command Build()
    {
        var port = new Option<int>("--port") { Description = "Gateway gRPC (h2c) port; 0 picks a free one.", DefaultValueFactory = _ => 5080 };
        var httpPort = new Option<int>("--http-port") { Description = "Gateway HTTP/1.1 port (OpenAI API, metrics); 0 picks a free one.", DefaultValueFactory = _ => 5081 };
        var redis = new Option<string?>("--redis") { Description = "Use Redis Streams and Redis state at HOST:PORT instead of the in-process bus and local folder." };
        var state = new Option<string>("--state") { Description = "Local state folder.", DefaultValueFactory = _ => Path.Combine(".alpaca", "state") };
        var model = new Option<string?>("--model") { Description = "GGUF model the inference service loads and serves (gRPC and OpenAI /v1 through the gateway): a file, or a Hub reference (org/repo:Q4_K_M, org/repo/FILE.gguf) pulled first." };
        var backend = new Option<string?>("--backend") { Description = "Engine backend of --model: cpu (default, the C# kernels) or torch (TorchSharp; GGUF dequantized to --dtype at load, or an HF safetensors folder)." };
        var device = new Option<string?>("--device") { Description = "With --backend torch: cpu, cuda or cuda:N (a CUDA build: -p:TorchSharpBackend=cuda)." };
        var dtype = new Option<string?>("--dtype") { Description = "With --backend torch: bf16, f16, f32 or auto (bf16 on CUDA, f32 on CPU)." };
        var draft = new Option<string?>("--draft") { Description = "Speculative decoding for --model: a smaller GGUF of the same vocabulary that proposes tokens for greedy requests, which --model verifies (output unchanged)." };
        var draftTokens = new Option<int>("--draft-tokens") { Description = "With --draft: tokens proposed per step, 1..16.", DefaultValueFactory = _ => 4 };
        var insecure = new Option<bool>("--insecure-no-auth") { Description = "Turn authentication off: anyone who reaches a port acts as admin. Never on a shared machine." };
        var teachers = new Option<string[]>(EmbeddedTeachers.OptionName) { Description = EmbeddedTeachers.Help, AllowMultipleArgumentsPerToken = false };
        var command = new Command("up", "Start every Alpaca service and the gateway in this process (Ctrl+C stops them).")
        {
            port, httpPort, redis, state, model, insecure, backend, device, dtype, teachers, draft, draftTokens,
        };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var modelPath = parse.GetValue(model);
            var backendName = parse.GetValue(backend);
            if (backendName is not null && !EngineLoader.IsKnownBackend(backendName))
            {
                Console.Error.WriteLine($"alpaca up: --backend is cpu or torch, not '{backendName}'");
                return 2;
            }

            if (modelPath is not null)
            {
                try
                {
                    modelPath = await Pull.PullCommand.ResolveModelAsync(modelPath, ct);
                }
                catch (HubException ex)
                {
                    Console.Error.WriteLine($"alpaca up: {ex.Message}");
                    return 2;
                }
            }

            var torchFolder = backendName?.Trim().ToLowerInvariant() == EngineLoader.Torch && Directory.Exists(modelPath);
            if (modelPath is not null && !File.Exists(modelPath) && !torchFolder)
            {
                Console.Error.WriteLine($"alpaca up: model file not found: {modelPath}");
                return 2;
            }

            var draftPath = parse.GetValue(draft);
            if (draftPath is not null && (modelPath is null || !File.Exists(draftPath)))
            {
                Console.Error.WriteLine(modelPath is null ? "alpaca up: --draft needs --model" : $"alpaca up: draft model file not found: {draftPath}");
                return 2;
            }

            Dictionary<string, string?> generator;
            try
            {
                generator = EmbeddedTeachers.Settings(parse.GetValue(teachers) ?? []);
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"alpaca up: {ex.Message}");
                return 2;
            }

            var services = new Dictionary<string, IReadOnlyDictionary<string, string?>> { [Alpaca.Generator.Api.GeneratorModule.Name] = generator };
            if (modelPath is not null)
            {
                services[InferenceModule.Name] = InferenceModule.ServeAtStart(modelPath, backendName, parse.GetValue(device), parse.GetValue(dtype), draftPath, parse.GetValue(draftTokens));
            }

            var options = new EmbeddedPlatformOptions
            {
                GatewayPort = parse.GetValue(port),
                GatewayHttpPort = parse.GetValue(httpPort),
                Redis = parse.GetValue(redis),
                StateDirectory = parse.GetValue(state)!,
                InsecureNoAuth = parse.GetValue(insecure),
                ServiceSettings = services,
            };

            if (await PlatformLauncher.TryStartAsync("up", options, ct) is not { } platform)
            {
                return 1;
            }

            await using (platform)
            {
                if (modelPath is not null)
                {
                    try
                    {
                        // "Started" means ready to serve: the model is in before the gateway address is printed.
                        await InferenceModule.WaitForModelAsync(platform.App(InferenceModule.Name), TimeSpan.FromMinutes(5), ct);
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
                    {
                        Console.Error.WriteLine($"alpaca up: {ex.Message}");
                        return 1;
                    }
                }

                PrintSummary(platform, options, modelPath);
                if (options.InsecureNoAuth)
                {
                    Console.Error.WriteLine("alpaca up: WARNING: --insecure-no-auth: authentication is OFF; every caller that reaches a port acts as admin.");
                }
                else if (platform.InitialAdminKey is { } key)
                {
                    // The first start of this state: the only time the admin key is shown (only its hash is kept).
                    Console.WriteLine($"api-key: {key}");
                    Console.Error.WriteLine($"alpaca up: created the admin key above; it is not shown again. Clients send it as Authorization: Bearer (the CLI: ${CliAuth.EnvironmentVariable} or --api-key). More keys: alpaca keys create --state {options.StateDirectory} --name N --scopes inference");
                }

                // Tests and scripts read these lines.
                Console.WriteLine($"gateway: {platform.GatewayGrpc}");
                Console.WriteLine($"gateway-http: {platform.GatewayHttp}");
                Console.WriteLine($"console: {platform.Console}");
                Console.Out.Flush();
                await PlatformLauncher.ServeUntilStoppedAsync("up", ct);
            }

            return 0;
        });
        return command;
    }

    private static void PrintSummary(EmbeddedPlatform platform, EmbeddedPlatformOptions options, string? modelPath)
    {
        var table = new Table().AddColumns("service", "gRPC (h2c)", "HTTP");
        table.AddRow("gateway", platform.GatewayGrpc.ToString(), platform.GatewayHttp.ToString());
        foreach (var (name, (grpc, http)) in platform.Services)
        {
            table.AddRow(name, grpc.ToString(), http.ToString());
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Write(table);
        console.MarkupLine(options.Redis is null
            ? $"[grey]bus: in-process · state: {Markup.Escape(Path.GetFullPath(options.StateDirectory))}[/]"
            : $"[grey]bus: Redis Streams · state: Redis at {Markup.Escape(options.Redis)}[/]");
        console.MarkupLine(modelPath is null
            ? "[grey]inference: no model loaded (not ready); load one with alpaca models load FILE.gguf[/]"
            : $"[grey]inference: serving {Markup.Escape(Path.GetFullPath(modelPath))}; OpenAI API at {Markup.Escape(new Uri(platform.GatewayHttp, "/v1").ToString())}[/]");
    }
}
