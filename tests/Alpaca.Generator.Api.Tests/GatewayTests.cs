using System.Security.Cryptography;
using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.Inference.Api;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Messaging;
using Alpaca.Platform;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using Google.Protobuf;
using StackExchange.Redis;

namespace Alpaca.Generator.Api.Tests;

/// <summary>
/// The platform as <c>alpaca up --redis</c> starts it (gateway and the services in one process, Redis
/// Streams and Redis state), with the services a run touches (generator, dedup, and inference as a teacher;
/// not the trainer): a run started through the gateway is de-duplicated by the dedup service over
/// pub/sub (CandidatesProduced out, InstructionDecided back), gives exactly the expected data set, and its
/// DatasetPublished event is on the stream; then a platform restart in the middle of a second run.
/// </summary>
public sealed class GatewayTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly TempDir _dir = new("alpaca-gen-gateway");

    // Fixed before the start, since the named teacher "ours" (our inference service through the gateway) is configuration.
    private readonly int _gatewayHttpPort = FreePort.Next();
    private EmbeddedPlatform? _platform;

    public async Task InitializeAsync() => _platform = await StartPlatformAsync();

    [Fact]
    public async Task A_run_through_the_gateway_dedups_over_pubsub_and_publishes_the_expected_dataset()
    {
        const int target = 50;
        var plan = new ReplyPlan(seed: 23, target: target, batch: 5);
        await using var teacher = new TeacherServer(plan);
        using var channel = _platform!.GatewayChannel();
        var client = new GeneratorService.GeneratorServiceClient(channel);

        await client.StartRunAsync(new StartRunRequest { RunId = "via-gateway", Spec = GrpcRunKit.Spec(teacher.BaseUrl, target, _dir.File("out"), extras: true) });
        var run = (await GrpcRunKit.WatchToEndAsync(client, "via-gateway", TimeSpan.FromSeconds(90)))[^1];

        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}");
        GrpcRunKit.AssertCounts(plan, run.Progress);
        Assert.Equal(plan.KeptInstructions.Take(target), AlpacaRecords.Instructions(run.DatasetPath));

        // The extras came back through InstructionDecided in the dedup engine's order and values.
        GrpcRunKit.AssertExtrasMatchTheEngine(run.RegenPath, plan.KeptInstructions.Take(target));

        // The dedup service holds the run's pool: the seeds plus every candidate it kept (surplus included).
        var dedup = new DedupService.DedupServiceClient(channel);
        var stats = (await dedup.GetNamespaceAsync(new GetNamespaceRequest { Namespace = "gen-via-gateway" })).Stats;
        Assert.Equal(175 + plan.KeptInstructions.Count, stats.PoolSize);
        Assert.Equal(plan.ExpectedRejections.GetValueOrDefault("rouge_duplicate"), stats.Rejected);

        var published = await WaitForPublicationAsync("ds-via-gateway");
        Assert.Equal("via-gateway", published.RunId);
        Assert.Equal(run.DatasetPath, published.DatasetPath);
        Assert.Equal(run.RegenPath, published.RegenPath);
        Assert.Equal(target, published.RecordCount);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(run.DatasetPath))), published.Sha256);
    }

    [Fact]
    public async Task A_run_survives_a_platform_restart_and_completes_with_exactly_the_target()
    {
        const int target = 120;
        var plan = new ReplyPlan(seed: 29, target: target, batch: 5, extraRounds: 40);
        await using var teacher = new TeacherServer(plan, delay: TimeSpan.FromMilliseconds(100));
        using (var channel = _platform!.GatewayChannel())
        {
            var client = new GeneratorService.GeneratorServiceClient(channel);
            await client.StartRunAsync(new StartRunRequest { RunId = "restarted", Spec = GrpcRunKit.Spec(teacher.BaseUrl, target, _dir.File("out2")) });
            await GrpcRunKit.WaitForKeptAsync(client, "restarted", target / 3, TimeSpan.FromSeconds(60));
        }

        await _platform.DisposeAsync();
        _platform = await StartPlatformAsync();
        using var again = _platform.GatewayChannel();
        var run = (await GrpcRunKit.WatchToEndAsync(new GeneratorService.GeneratorServiceClient(again), "restarted", TimeSpan.FromSeconds(90)))[^1];

        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}");
        var instructions = AlpacaRecords.Instructions(run.DatasetPath);
        Assert.Equal(target, instructions.Count);
        Assert.Equal(target, instructions.Distinct(StringComparer.Ordinal).Count());
        Assert.All(instructions, i => Assert.Contains(i, plan.AllKeepable));
        Assert.Equal(target, (await WaitForPublicationAsync("ds-restarted")).RecordCount);
    }

    [Fact]
    public async Task With_our_inference_service_as_the_teacher_the_run_proceeds_and_records_what_it_could_parse()
    {
        // A random-weight tiny LLaMA (nothing downloaded): its replies are noise, which is the point — the run
        // must go on, count what it parsed (nothing usable) and use the tokens our server reports.
        var gguf = _dir.File("tiny-teacher.gguf");
        TinyModelFactory.WriteGguf(gguf, new TinyModelSpec { Config = TinyModelFactory.Tiny(context: 8192), RandomNorms = true, Seed = 5, InitStd = 0.08f, Name = "tiny-teacher" }, GgmlType.Q8_0);
        using var channel = _platform!.GatewayChannel();
        var inference = new InferenceService.InferenceServiceClient(channel);
        await inference.LoadModelAsync(new LoadModelRequest { Name = "tiny-teacher", Path = gguf, MakeDefault = true });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await inference.ModelReadyAsync(new ModelReadyRequest { Model = "tiny-teacher" })).Ready)
        {
            Assert.True(DateTime.UtcNow < deadline, "the tiny model did not become ready");
            await Task.Delay(50);
        }

        // Through the gateway's OpenAI route; our server takes one prompt per request and no logit_bias.
        var spec = GrpcRunKit.Spec("", 5, _dir.File("inference-out"));
        spec.Teacher.BaseUrl = "";
        spec.Teacher.Name = "ours";
        spec.Teacher.Model = "tiny-teacher";
        // The gateway's /v1 takes an API key like any OpenAI-compatible server: an inference key, from the file
        // the named teacher's configuration points at (a run cannot name a key source).
        var teacherKey = (await _platform.Keys!.CreateAsync("teacher", [ApiScope.Inference])).Key;
        await File.WriteAllTextAsync(_dir.File("teacher.key"), teacherKey);
        spec.Teacher.UnbatchedPrompts = true;
        spec.Sampling.NoLogitBias = true;
        spec.Sampling.MaxTokens = 32;
        spec.Sampling.NumPromptInstructions = 1;
        var client = new GeneratorService.GeneratorServiceClient(channel);
        await client.StartRunAsync(new StartRunRequest { RunId = "our-teacher", Spec = spec });

        Run run;
        deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(100);
            run = (await client.GetRunAsync(new GetRunRequest { RunId = "our-teacher" })).Run;
            Assert.True(DateTime.UtcNow < deadline, $"no two rounds within 60 s: {run}");
        }
        while (run.Progress.Rounds < 2 && run.State is RunState.Queued or RunState.Running);

        Assert.True(run.State == RunState.Running, $"{run.State}: {run.Error}");
        run = (await client.CancelRunAsync(new CancelRunRequest { RunId = "our-teacher" })).Run;
        Assert.Equal(RunState.Cancelled, run.State);
        var p = run.Progress;
        Assert.True(p.Rounds >= 2);
        Assert.True(p.PromptTokens > 0 && p.CompletionTokens > 0, $"tokens {p.PromptTokens}+{p.CompletionTokens}");
        Assert.True(p.Generated >= p.Rounds, $"{p.Generated} items parsed in {p.Rounds} rounds"); // every non-empty reply is at least one item
        Assert.Equal(p.Generated, p.Kept + p.RejectedByReason.Values.Sum());
    }

    private Task<EmbeddedPlatform> StartPlatformAsync() => EmbeddedPlatform.StartAsync([GeneratorModule.Instance, DedupModule.Instance, InferenceModule.Instance], new EmbeddedPlatformOptions
    {
        GatewayPort = 0,
        GatewayHttpPort = _gatewayHttpPort,
        Redis = redis.Address,
        StateDirectory = _dir.File("state"),
        ExtraSettings = new Dictionary<string, string?>
        {
            ["Alpaca:Messaging:Redis:PollInterval"] = "00:00:00.010",
            ["Alpaca:Generator:PauseDelay"] = "00:00:00.200",
            ["Alpaca:Generator:DataDirectory"] = _dir.File("datasets"),
            ["Alpaca:Paths:ModelRoots"] = _dir.Path, // the teacher model is written there
        },
        ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>>
        {
            [GeneratorModule.Name] = new Dictionary<string, string?>(GeneratorTestSettings.LoopbackTeachers())
            {
                // Our inference service as a named teacher, its key from a file only the configuration names.
                ["Alpaca:Generator:Teachers:ours:BaseUrl"] = $"http://127.0.0.1:{_gatewayHttpPort}/v1",
                ["Alpaca:Generator:Teachers:ours:ApiKeyFile"] = _dir.File("teacher.key"),
            },
        },
    });

    /// <summary>Reads the DatasetPublished stream (as any consumer would) until the dataset's event is there.</summary>
    private async Task<DatasetPublished> WaitForPublicationAsync(string datasetId)
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (var entry in await connection.GetDatabase().StreamRangeAsync($"alpaca:stream:{EventTopics.DatasetPublished}"))
            {
                var envelope = EventEnvelope.Parse((byte[])entry[Messaging.Redis.RedisStreamsEventBus.EnvelopeField]!);
                var published = JsonParser.Default.Parse<DatasetPublished>(envelope.Data.GetRawText());
                if (published.DatasetId == datasetId)
                {
                    Assert.Equal(datasetId, envelope.Id);
                    return published;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"No DatasetPublished event for {datasetId} within 20 s.");
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        _dir.Dispose();
    }
}
