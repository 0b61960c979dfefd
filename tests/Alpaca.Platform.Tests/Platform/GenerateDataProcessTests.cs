using Alpaca.Dedup.Api;
using Alpaca.Generator.Api;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;

namespace Alpaca.Platform.Tests.Platform;

/// <summary><c>alpaca generate-data --gateway</c> as a real process: the run goes to the generator service of a running platform.</summary>
public sealed class GenerateDataProcessTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("alpaca-generate-data");
    private EmbeddedPlatform? _platform;

    public async Task InitializeAsync() => _platform = await EmbeddedPlatform.StartAsync([GeneratorModule.Instance, DedupModule.Instance], new EmbeddedPlatformOptions
    {
        GatewayPort = 0,
        GatewayHttpPort = 0,
        StateDirectory = _dir.File("state"),
        ExtraSettings = new Dictionary<string, string?> { ["Alpaca:Generator:PauseDelay"] = "00:00:00.200" },
        ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>> { [GeneratorModule.Name] = GeneratorTestSettings.LoopbackTeachers() },
    });

    [Fact]
    public async Task Alpaca_generate_data_with_gateway_starts_the_run_in_the_service_and_shows_its_progress()
    {
        const int target = 20;
        var plan = new ReplyPlan(seed: 31, target: target, batch: 5);
        await using var teacher = new TeacherServer(plan);
        var (code, output, error) = await AlpacaCli.RunAsync(
            TimeSpan.FromSeconds(60),
            "generate-data", "--gateway", _platform!.GatewayGrpc.ToString(), "--api-key", _platform.AdminKey!,
            "--seeds", RepoPaths.Data("seed_tasks.jsonl"), "--teacher-url", teacher.BaseUrl, "--teacher-model", "loopback-teacher",
            "--num-instructions", "20", "--run-id", "from-cli", "--seed", "7", "--max-retries", "0", "--out", _dir.File("cli-out"));

        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Contains("run from-cli in the service", output, StringComparison.Ordinal);
        Assert.Matches(@"\[Succeeded\] round \d+: kept 20/20", output);
        Assert.Contains("published dataset ds-from-cli", output, StringComparison.Ordinal);
        Assert.Equal(plan.KeptInstructions.Take(target), AlpacaRecords.Instructions(Path.Combine(_dir.File("cli-out"), "alpaca_data.json")));
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
