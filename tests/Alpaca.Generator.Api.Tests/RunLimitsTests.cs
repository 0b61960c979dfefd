using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Generator.Api.Tests;

/// <summary>
/// StartRun's size limits (Alpaca:Generator:Limits) over real gRPC: each over its limit is INVALID_ARGUMENT naming
/// the field and the limit, and starts nothing; a request at every limit starts a run.
/// </summary>
public sealed class RunLimitsTests : IDisposable
{
    private const int Seeds = 3;
    private const int TextChars = 300;
    private const int FieldChars = 64;
    private const int BatchSize = 4;
    private const int PromptInstructions = 2;
    private const int Stops = 2;

    private readonly TempDir _dir = new("alpaca-gen-limits");

    private static readonly Dictionary<string, string?> Limits = new()
    {
        ["Alpaca:Generator:Limits:MaxSeedTasks"] = $"{Seeds}",
        ["Alpaca:Generator:Limits:MaxTextChars"] = $"{TextChars}",
        ["Alpaca:Generator:Limits:MaxFieldChars"] = $"{FieldChars}",
        ["Alpaca:Generator:Limits:MaxRequestBatchSize"] = $"{BatchSize}",
        ["Alpaca:Generator:Limits:MaxPromptInstructions"] = $"{PromptInstructions}",
        ["Alpaca:Generator:Limits:MaxStops"] = $"{Stops}",
        ["Alpaca:Generator:Limits:MaxNumInstructions"] = "100",
    };

    // An unreachable teacher: the accepted run is cancelled before it could matter.
    private RunSpec Spec()
    {
        var spec = new RunSpec
        {
            SeedTasks = new SeedTasks(),
            Teacher = new TeacherConfig { BaseUrl = "http://127.0.0.1:9", Model = "m", MaxRetries = 0 },
            NumInstructions = 100,
            OutputDir = _dir.File("out"),
            Sampling = new GenerationSampling { RequestBatchSize = BatchSize, NumPromptInstructions = PromptInstructions },
        };
        spec.SeedTasks.Tasks.AddRange(Enumerable.Range(0, Seeds).Select(i => new SeedTask { Id = $"s{i}", Instruction = $"Seed task {i}.", Output = "ok" }));
        spec.Sampling.Stop.AddRange(Enumerable.Range(0, Stops).Select(i => $"{i + 1}."));
        return spec;
    }

    [Fact]
    public async Task Each_limit_is_refused_with_its_field_and_a_request_at_every_limit_starts()
    {
        await using var host = await GeneratorHost.StartAsync(_dir.File("state"), Limits);

        async Task RefusedAsync(Action<RunSpec> change, string expected)
        {
            var spec = Spec();
            change(spec);
            var e = await Assert.ThrowsAsync<RpcException>(() => host.Client.StartRunAsync(new StartRunRequest { RunId = "refused", Spec = spec }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Equal(expected, e.Status.Detail);
        }

        await RefusedAsync(s => s.SeedTasks.Tasks.Add(new SeedTask { Instruction = "one more" }), $"spec.seed_tasks.tasks has {Seeds + 1} tasks; at most {Seeds} are accepted.");
        await RefusedAsync(s => s.SeedTasks.Tasks[1].Instruction = new string('i', TextChars + 1), $"spec.seed_tasks.tasks[1].instruction has {TextChars + 1} characters; at most {TextChars} are accepted.");
        await RefusedAsync(s => s.PromptText = new string('p', TextChars + 1), $"spec.prompt_text has {TextChars + 1} characters; at most {TextChars} are accepted.");
        await RefusedAsync(s => s.Teacher.Model = new string('m', FieldChars + 1), $"spec.teacher.model has {FieldChars + 1} characters; at most {FieldChars} are accepted.");
        await RefusedAsync(s => s.Sampling.RequestBatchSize = BatchSize + 1, $"spec.sampling.request_batch_size = {BatchSize + 1} exceeds this server's limit of {BatchSize}.");
        await RefusedAsync(s => s.Sampling.NumPromptInstructions = PromptInstructions + 1, $"spec.sampling.num_prompt_instructions = {PromptInstructions + 1} exceeds this server's limit of {PromptInstructions}.");
        await RefusedAsync(s => s.Sampling.Stop.Add("x"), $"spec.sampling.stop has {Stops + 1} sequences; at most {Stops} are accepted.");
        await RefusedAsync(s => s.NumInstructions = 101, "spec.num_instructions = 101 exceeds this server's limit of 100.");
        var runId = await Assert.ThrowsAsync<RpcException>(() => host.Client.StartRunAsync(new StartRunRequest { RunId = new string('r', FieldChars + 1), Spec = Spec() }).ResponseAsync);
        Assert.Equal($"run_id has {FieldChars + 1} characters; at most {FieldChars} are accepted.", runId.Status.Detail);
        Assert.Empty((await host.Client.ListRunsAsync(new ListRunsRequest())).Runs);

        var atLimits = Spec();
        atLimits.SeedTasks.Tasks[0].Instruction = new string('i', TextChars);
        atLimits.Teacher.Model = new string('m', FieldChars);
        var started = await host.Client.StartRunAsync(new StartRunRequest { RunId = "at-limits", Spec = atLimits });
        Assert.Equal("at-limits", started.Run.Id);
        await host.Client.CancelRunAsync(new CancelRunRequest { RunId = "at-limits" });
    }

    public void Dispose() => _dir.Dispose();
}
