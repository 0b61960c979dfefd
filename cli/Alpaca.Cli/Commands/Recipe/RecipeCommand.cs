using System.CommandLine;
using System.Globalization;
using Alpaca.Cli.Commands.Platform;
using Alpaca.Platform;
using Alpaca.Trainer.Api;
using Grpc.Core;
using Grpc.Net.Client;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>
/// <c>alpaca recipe</c>: seed tasks (or a data set) in, a served model out, in one command. It starts the
/// embedded platform as <c>alpaca up</c> does (or uses <c>--gateway URL</c>), runs every stage through the
/// services' gRPC APIs (<see cref="RecipeRunner"/>), prints the sample answer and the gateway and console
/// addresses, and keeps serving until Ctrl+C. Run again, it resumes: ids come from the inputs.
/// </summary>
public static class RecipeCommand
{
    /// <summary>
    /// The recipe draws one progress display; the services' information logs (and the health checks that fail,
    /// as they should, until a model is loaded) would scatter it, so only warnings and errors are shown.
    /// </summary>
    private static readonly Dictionary<string, string?> QuietLogs = new()
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "None",
        ["Logging:LogLevel:Yarp.ReverseProxy.Health"] = "None",
    };

    public static Command Build()
    {
        var data = new Option<string?>("--data") { Description = "Alpaca-format data (a JSON array or JSON Lines of instruction, input, output): a local FILE, or a URL with --data-sha256. Skips generation. Default without --teacher: the released alpaca_data.json, fetched from its public origin and checked by its SHA-256." };
        var sha = new Option<string?>("--data-sha256") { Description = "SHA-256 the --data file or URL must have." };
        var baseModel = new Option<string>("--base") { Description = "'tiny' (a ~4M-parameter LLaMA trained from scratch, minutes on a CPU) or a Hugging Face checkpoint folder.", DefaultValueFactory = _ => "tiny" };
        var records = new Option<int>("--records") { Description = "Use the first N records of the data, or generate N with --teacher (0 = all).", DefaultValueFactory = _ => 300 };
        var teacher = new Option<string?>("--teacher") { Description = "Generate the data by Self-Instruct with this OpenAI-compatible teacher: a base URL including /v1 (its key from OPENAI_API_KEY), or with --gateway the name of a teacher the generator service configures." };
        var teacherModel = new Option<string?>("--teacher-model") { Description = "The teacher's model name." };
        var teacherApi = new Option<string>("--teacher-api") { Description = "completions (the reference's endpoint) or chat.", DefaultValueFactory = _ => "completions" };
        var seeds = new Option<string?>("--seeds") { Description = "Seed tasks for generation (seed_tasks.jsonl format); default: stanford_alpaca's 175, fetched and checked by SHA-256." };
        var state = new Option<string>("--state") { Description = "State folder of the embedded platform (runs, jobs, models, downloads, reports).", DefaultValueFactory = _ => Path.Combine(".alpaca", "state") };
        var port = new Option<int>("--port") { Description = "Gateway gRPC (h2c) port; 0 picks a free one.", DefaultValueFactory = _ => 5080 };
        var httpPort = new Option<int>("--http-port") { Description = "Gateway HTTP/1.1 port (OpenAI API, console); 0 picks a free one.", DefaultValueFactory = _ => 5081 };
        var gateway = new Option<string?>("--gateway") { Description = "Use a running platform (gateway gRPC URL) instead of starting one; data paths must be readable by its trainer." };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 3 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Stop training after N optimizer steps (0 = the epochs decide).", DefaultValueFactory = _ => 0 };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default 3e-3 for tiny, Alpaca's 2e-5 otherwise)." };
        var batch = new Option<int>("--batch-size") { Description = "Global batch size in examples.", DefaultValueFactory = _ => 16 };
        var maxLen = new Option<int>("--max-len") { Description = "Maximum tokens per example.", DefaultValueFactory = _ => 256 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of initialisation, data order and generation.", DefaultValueFactory = _ => 42 };
        var quant = new Option<string>("--quant") { Description = "GGUF type: auto (f16 for tiny, q8_0 otherwise), f32, f16, q8_0, q4_0.", DefaultValueFactory = _ => "auto" };
        var modelName = new Option<string?>("--model-name") { Description = "Name the model is served under (default alpaca-<recipe id>)." };
        var evalLimit = new Option<int>("--eval-limit") { Description = "Instructions of the Self-Instruct suite the final evaluation asks (0 = none).", DefaultValueFactory = _ => 5 };
        var evalSuite = new Option<string?>("--eval-suite") { Description = "Suite file for the final evaluation (default: fetched and checked by SHA-256)." };
        var evalPredictions = new Option<string?>("--eval-predictions") { Description = "text-davinci-003 predictions for --eval-suite." };
        var exit = new Option<bool>("--no-serve") { Description = "Exit once the recipe is done instead of serving until Ctrl+C." };
        var insecure = new Option<bool>("--insecure-no-auth") { Description = "Embedded platform without authentication (never on a shared machine)." };

        var command = new Command("recipe", "Seed tasks (or a data set) in, a served model out: generation, ROUGE-L dedup, fine-tuning, GGUF export, serving, a sample answer and a short evaluation.")
        {
            data, sha, baseModel, records, teacher, teacherModel, teacherApi, seeds, state, port, httpPort, gateway, epochs, maxSteps, lr, batch, maxLen, seed, quant,
            modelName, evalLimit, evalSuite, evalPredictions, exit, insecure,
        };
        command.SetAction(async (ParseResult parse, CancellationToken cancellationToken) =>
        {
            var options = new RecipeOptions
            {
                Data = parse.GetValue(data),
                DataSha256 = parse.GetValue(sha),
                Base = parse.GetValue(baseModel)!,
                Records = parse.GetValue(records),
                TeacherUrl = parse.GetValue(teacher),
                TeacherModel = parse.GetValue(teacherModel),
                TeacherApi = parse.GetValue(teacherApi)!,
                Seeds = parse.GetValue(seeds),
                StateDir = Path.GetFullPath(parse.GetValue(state)!),
                Epochs = parse.GetValue(epochs),
                MaxSteps = parse.GetValue(maxSteps),
                LearningRate = parse.GetValue(lr),
                BatchSize = parse.GetValue(batch),
                MaxLength = parse.GetValue(maxLen),
                Seed = parse.GetValue(seed),
                Quant = parse.GetValue(quant)!,
                ModelName = parse.GetValue(modelName),
                EvalLimit = parse.GetValue(evalLimit),
                EvalSuite = parse.GetValue(evalSuite),
                EvalPredictions = parse.GetValue(evalPredictions),
            };
            try
            {
                Validate(options);

                // The data (or the seed tasks) are fetched, verified and parsed before the platform starts: a tampered
                // download or a malformed file is an error within a second, not after the services came up.
                (options, var inputs) = await RecipeInputs.PrepareAsync(options, cancellationToken);
                return parse.GetValue(gateway) is { } remote
                    ? await RemoteAsync(remote, options, inputs, parse.GetValue(exit), cancellationToken)
                    : await EmbeddedAsync(options, inputs, parse.GetValue(port), parse.GetValue(httpPort), parse.GetValue(insecure), parse.GetValue(exit), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("alpaca recipe: stopped. Run the same command again to resume where it stopped.");
                return 130;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine("alpaca recipe: stopped. Run the same command again to resume where it stopped.");
                return 130;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException
                                           or InvalidOperationException or TimeoutException or RpcException or HttpRequestException
                                           or Alpaca.Generator.Seeds.GeneratorInputException)
            {
                Console.Error.WriteLine("alpaca recipe: error: " + (e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message));
                return 1;
            }
        });
        return command;
    }

    private static void Validate(RecipeOptions options)
    {
        if (options.TeacherUrl is not null && options.Data is not null)
        {
            throw new ArgumentException("--data skips generation; give either --data or --teacher, not both.");
        }

        if (options.TeacherUrl is not null && options.Records <= 0)
        {
            throw new ArgumentException("--records must be positive with --teacher (how many instructions to generate).");
        }

        if (!options.IsTiny && !Directory.Exists(options.Base))
        {
            throw new DirectoryNotFoundException($"--base {options.Base}: not 'tiny' and not a checkpoint folder.");
        }
    }

    private static async Task<int> EmbeddedAsync(RecipeOptions options, RecipeInputs inputs, int port, int httpPort, bool insecure, bool noServe, CancellationToken cancellationToken)
    {
        var work = Path.Combine(options.StateDir, "recipe");
        var reports = Path.Combine(options.StateDir, "reports");
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(reports);
        // The trainer reads the recipe's data sets (and a base checkpoint) from the folders named here only.
        var dataRoots = options.IsTiny ? work : work + Path.PathSeparator + Path.GetFullPath(options.Base);
        var generator = new Dictionary<string, string?>();
        if (options.TeacherIsUrl)
        {
            // The user's teacher becomes the embedded generator's named teacher (the user is the operator here):
            // its key from OPENAI_API_KEY as before, and any address, since a local teacher is the usual case.
            var prefix = $"Alpaca:Generator:Teachers:{RecipeGeneration.EmbeddedTeacher}:";
            generator[prefix + "BaseUrl"] = options.TeacherUrl;
            generator[prefix + "Model"] = options.TeacherModel;
            generator[prefix + "Api"] = options.TeacherApi;
            generator[prefix + "ApiKeyEnv"] = Alpaca.Generator.Teacher.ApiKeySource.DefaultEnvironmentVariable;
            generator[prefix + "AllowPrivateAddresses"] = "true";
            options = options with { TeacherName = RecipeGeneration.EmbeddedTeacher };
        }
        else if (options.TeacherUrl is not null)
        {
            throw new ArgumentException($"--teacher must be an http(s) base URL here; a teacher name needs --gateway. Got '{options.TeacherUrl}'.");
        }

        var platformOptions = new EmbeddedPlatformOptions
        {
            GatewayPort = port,
            GatewayHttpPort = httpPort,
            StateDirectory = options.StateDir,
            InsecureNoAuth = insecure,
            GatewaySettings = new Dictionary<string, string?>(QuietLogs) { ["Alpaca:Console:ReportsDir"] = reports },
            ExtraSettings = QuietLogs,
            ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>>
            {
                [TrainerModule.Name] = new Dictionary<string, string?> { ["Alpaca:Paths:DataRoots"] = dataRoots },
                [Alpaca.Generator.Api.GeneratorModule.Name] = generator,
            },
        };
        if (await PlatformLauncher.TryStartAsync("recipe", platformOptions, cancellationToken) is not { } platform)
        {
            return 1;
        }

        await using (platform)
        {
            if (platform.InitialAdminKey is { } key)
            {
                Console.WriteLine($"api-key: {key}");
                Console.Error.WriteLine($"alpaca recipe: created the admin key above for {options.StateDir}; it is not shown again (export {CliAuth.EnvironmentVariable}=… for other commands).");
            }

            using var channel = platform.GatewayChannel();
            var outcome = await RunAsync(channel, options, inputs, work, cancellationToken);
            Print(outcome, platform.GatewayGrpc, platform.GatewayHttp);
            return noServe ? 0 : await ServeUntilStoppedAsync(cancellationToken);
        }
    }

    private static async Task<int> RemoteAsync(string gateway, RecipeOptions options, RecipeInputs inputs, bool noServe, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(gateway, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--gateway must be an http(s) URL; got '{gateway}'.");
        }

        if (options.TeacherUrl is not null && !options.TeacherIsUrl)
        {
            options = options with { TeacherName = options.TeacherUrl };
        }

        using var channel = CliAuth.Channel(address);
        var outcome = await RunAsync(channel, options, inputs, Path.Combine(options.StateDir, "recipe"), cancellationToken);
        Print(outcome, address, null);
        return noServe ? 0 : await ServeUntilStoppedAsync(cancellationToken);
    }

    private static async Task<RecipeOutcome> RunAsync(GrpcChannel channel, RecipeOptions options, RecipeInputs inputs, string work, CancellationToken cancellationToken)
    {
        var view = new RecipeView();
        RecipeOutcome? outcome = null;
        await view.RunAsync(async v => outcome = await new RecipeRunner(channel, options, inputs, v, work).RunAsync(cancellationToken));
        view.PrintTimes();
        return outcome!;
    }

    private static void Print(RecipeOutcome outcome, Uri gatewayGrpc, Uri? gatewayHttp)
    {
        Console.WriteLine($"recipe: {outcome.RecipeId}");
        Console.WriteLine($"model: {outcome.ModelName} ({outcome.GgufPath}, job {outcome.JobId})");
        Console.WriteLine($"sample-instruction: {outcome.SampleInstruction}");
        Console.WriteLine($"sample-answer: {outcome.SampleAnswer.ReplaceLineEndings(" ")}");
        if (outcome.ReportPath is { } report)
        {
            Console.WriteLine($"eval-report: {report}");
        }

        // Tests and scripts read these lines.
        Console.WriteLine($"gateway: {gatewayGrpc}");
        if (gatewayHttp is not null)
        {
            Console.WriteLine($"gateway-http: {gatewayHttp}");
            Console.WriteLine($"console: {new Uri(gatewayHttp, "/console/")}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chat: {new Uri(gatewayHttp, "/v1/chat/completions")} (model {outcome.ModelName})"));
        }

        Console.Out.Flush();
    }

    private static async Task<int> ServeUntilStoppedAsync(CancellationToken cancellationToken)
    {
        Console.Error.WriteLine("alpaca recipe: serving; Ctrl+C stops.");
        await PlatformLauncher.ServeUntilStoppedAsync("recipe", cancellationToken);
        return 0;
    }
}
