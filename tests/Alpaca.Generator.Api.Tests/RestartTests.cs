using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Runs;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.Generator.Runs;
using Alpaca.State;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using StackExchange.Redis;

namespace Alpaca.Generator.Api.Tests;

/// <summary>
/// The service process killed (SIGKILL) in the middle of a run with two rounds in flight, then started again on
/// the same state (Redis, or the local state folder): the run resumes by itself and ends with exactly the target
/// number of unique instructions, and everything accepted before the kill is still there, in the same order.
/// </summary>
public sealed class RestartTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private const int Target = 150;
    private readonly TempDir _dir = new("alpaca-gen-restart");

    [Theory]
    [InlineData("local")]
    [InlineData("redis")]
    public async Task A_killed_service_resumes_the_run_and_completes_with_exactly_the_target_of_unique_instructions(string store)
    {
        var plan = new ReplyPlan(seed: store.Length, target: Target, batch: 5, extraRounds: 40);
        await using var teacher = new TeacherServer(plan, delay: TimeSpan.FromMilliseconds(120));
        var stateDir = store == "local" ? _dir.File("state") : null;
        var redisAddress = store == "redis" ? redis.Address : null;
        var runId = $"restart-{store}-{Guid.NewGuid():N}"[..30];
        var outDir = _dir.File("out");

        IReadOnlyList<KeptRecord> keptAtKill;
        await using (var first = await GeneratorProcess.StartAsync(stateDir, redisAddress))
        {
            await first.Client.StartRunAsync(new StartRunRequest { RunId = runId, Spec = GrpcRunKit.Spec(teacher.BaseUrl, Target, outDir, concurrency: 2) });
            var before = await GrpcRunKit.WaitForKeptAsync(first.Client, runId, Target / 3, TimeSpan.FromSeconds(60));
            Assert.Equal(RunState.Running, before.State);
            await first.KillAsync();
            keptAtKill = await OpenStore(stateDir, redisAddress).LoadKeptAsync(runId);
            Assert.InRange(keptAtKill.Count, Target / 3, Target - 1);
        }

        await using var second = await GeneratorProcess.StartAsync(stateDir, redisAddress);
        var snapshots = await GrpcRunKit.WatchToEndAsync(second.Client, runId, TimeSpan.FromSeconds(90));
        var run = snapshots[^1];
        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}\n{second.Log}");
        Assert.Equal(Target, run.Progress.Kept);

        var kept = await OpenStore(stateDir, redisAddress).LoadKeptAsync(runId);
        Assert.Equal(Target, kept.Count);
        Assert.Equal(Target, kept.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(keptAtKill.Select(k => k.CandidateId), kept.Take(keptAtKill.Count).Select(k => k.CandidateId));

        var instructions = AlpacaRecords.Instructions(run.DatasetPath);
        Assert.Equal(kept.Select(k => k.Instruction), instructions);
        Assert.Equal(Target, instructions.Distinct(StringComparer.Ordinal).Count());
        Assert.All(instructions, i => Assert.Contains(i, plan.AllKeepable));
    }

    private static StateRunStore OpenStore(string? stateDir, string? redisAddress) =>
        new(stateDir is not null
            ? new LocalFolderStateStore(stateDir)
            : new RedisStateStore(ConnectionMultiplexer.Connect(redisAddress!), "alpaca:"));

    public void Dispose() => _dir.Dispose();
}
