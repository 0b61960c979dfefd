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
/// Redis restarted in the middle of a run, with persistence on as the manifests configure it (append-only file,
/// here fsync'ed on every write; SIGKILL, then a start on the same data): the generator process and the dedup service
/// (Redis Streams and Redis state) reconnect, and the run ends with exactly its target, nothing lost or doubled, and
/// extras equal to the dedup engine's for the kept log in order.
/// </summary>
public sealed class RedisRestartTests(PersistentRedisServer redis) : IClassFixture<PersistentRedisServer>, IDisposable
{
    private const int Target = 120;
    private readonly TempDir _dir = new("alpaca-gen-redis-restart");

    [Fact]
    public async Task Redis_restarted_mid_run_with_persistence_on_ends_the_run_with_exactly_its_target()
    {
        var dedupPort = FreePort.Next();
        await using var dedup = await DedupHost.StartAsync(redis.Address, dedupPort);
        var plan = new ReplyPlan(seed: 61, target: Target, batch: 5, extraRounds: 40);
        await using var teacher = new TeacherServer(plan, delay: TimeSpan.FromMilliseconds(80));
        await using var generator = await GeneratorProcess.StartAsync(null, redis.Address, DedupHost.PubSubGeneratorSettings(dedupPort));
        await generator.Client.StartRunAsync(new StartRunRequest { RunId = "redis-restart", Spec = GrpcRunKit.Spec(teacher.BaseUrl, Target, _dir.File("out"), concurrency: 2, extras: true) });
        var before = await GrpcRunKit.WaitForKeptAsync(generator.Client, "redis-restart", Target / 3, TimeSpan.FromSeconds(60));
        Assert.True(before.State == RunState.Running, $"{before.State}: {before.Error}\n{generator.Log}");

        redis.Restart();
        var keptAtRestart = await Store().LoadKeptAsync("redis-restart");
        Assert.InRange(keptAtRestart.Count, Target / 3, Target - 1);

        var run = (await GrpcRunKit.WatchToEndAsync(generator.Client, "redis-restart", TimeSpan.FromSeconds(120)))[^1];
        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}\n{generator.Log}");
        var kept = await Store().LoadKeptAsync("redis-restart");
        Assert.Equal(Target, kept.Count);
        Assert.Equal(Target, kept.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(keptAtRestart.Select(k => k.CandidateId), kept.Take(keptAtRestart.Count).Select(k => k.CandidateId));
        var instructions = AlpacaRecords.Instructions(run.DatasetPath);
        Assert.Equal(Target, instructions.Distinct(StringComparer.Ordinal).Count());
        Assert.All(instructions, i => Assert.Contains(i, plan.AllKeepable));
        GrpcRunKit.AssertExtrasMatchTheEngine(run.RegenPath, instructions);
    }

    private StateRunStore Store() => new(new RedisStateStore(ConnectionMultiplexer.Connect(redis.Address), "alpaca:"));

    public void Dispose() => _dir.Dispose();
}
