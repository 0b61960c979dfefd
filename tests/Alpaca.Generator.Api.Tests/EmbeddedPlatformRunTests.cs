using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.Platform;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;

namespace Alpaca.Generator.Api.Tests;

/// <summary>
/// <c>alpaca up</c>'s default (no Redis) with the services a run touches (generator and dedup): the in-process
/// broker between them and a local state folder per service. Dedup still goes through the dedup service over
/// pub/sub and gives the same data set.
/// </summary>
public sealed class EmbeddedPlatformRunTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("alpaca-gen-embedded");
    private EmbeddedPlatform? _platform;

    public async Task InitializeAsync() => _platform = await EmbeddedPlatform.StartAsync([GeneratorModule.Instance, DedupModule.Instance], new EmbeddedPlatformOptions
    {
        GatewayPort = 0,
        GatewayHttpPort = 0,
        StateDirectory = _dir.File("state"),
        ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>> { [GeneratorModule.Name] = GeneratorTestSettings.LoopbackTeachers() },
    });

    [Fact]
    public async Task A_run_through_the_gateway_of_the_default_platform_dedups_over_the_in_process_bus()
    {
        const int target = 40;
        var plan = new ReplyPlan(seed: 53, target: target, batch: 5);
        await using var teacher = new TeacherServer(plan);
        using var channel = _platform!.GatewayChannel();
        var client = new GeneratorService.GeneratorServiceClient(channel);

        // No output_dir: the data set goes to the generator's data folder beside its state.
        var spec = GrpcRunKit.Spec(teacher.BaseUrl, target, "");
        await client.StartRunAsync(new StartRunRequest { RunId = "embedded", Spec = spec });
        var run = (await GrpcRunKit.WatchToEndAsync(client, "embedded", TimeSpan.FromSeconds(60)))[^1];

        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}");
        GrpcRunKit.AssertCounts(plan, run.Progress);
        Assert.Equal(Path.Combine(_dir.File("state"), "generator", "datasets", "embedded", "alpaca_data.json"), run.DatasetPath);
        Assert.Equal(plan.KeptInstructions.Take(target), AlpacaRecords.Instructions(run.DatasetPath));
        var stats = (await new DedupService.DedupServiceClient(channel).GetNamespaceAsync(new GetNamespaceRequest { Namespace = "gen-embedded" })).Stats;
        Assert.Equal(175 + plan.KeptInstructions.Count, stats.PoolSize);
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
