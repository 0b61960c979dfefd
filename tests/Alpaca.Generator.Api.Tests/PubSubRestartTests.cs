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
/// The hardest path of pub/sub dedup: the generator process is killed (SIGKILL) while rounds are out at the
/// dedup service, so decisions are published to a consumer that no longer exists. The dedup service keeps
/// running (in this process, Redis Streams and Redis state). The restarted generator must finish the run with
/// exactly the target, nothing lost or doubled, and extras that are exactly the dedup engine's for the kept
/// log in order — which holds only if no candidate was decided twice or out of order.
/// </summary>
public sealed class PubSubRestartTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private const int Target = 150;
    private readonly TempDir _dir = new("alpaca-gen-pubsub");

    [Fact]
    public async Task A_generator_killed_with_rounds_at_the_dedup_service_resumes_to_exactly_the_target()
    {
        var dedupPort = FreePort.Next();
        await using var dedup = await DedupHost.StartAsync(redis.Address, dedupPort);
        var plan = new ReplyPlan(seed: 47, target: Target, batch: 5, extraRounds: 40);
        await using var teacher = new TeacherServer(plan, delay: TimeSpan.FromMilliseconds(80));
        var settings = DedupHost.PubSubGeneratorSettings(dedupPort);

        IReadOnlyList<KeptRecord> keptAtKill;
        await using (var first = await GeneratorProcess.StartAsync(null, redis.Address, settings))
        {
            await first.Client.StartRunAsync(new StartRunRequest { RunId = "pubsub-kill", Spec = GrpcRunKit.Spec(teacher.BaseUrl, Target, _dir.File("out"), concurrency: 2, extras: true) });
            var before = await GrpcRunKit.WaitForKeptAsync(first.Client, "pubsub-kill", Target / 3, TimeSpan.FromSeconds(60));
            Assert.True(before.State == RunState.Running, $"{before.State}: {before.Error}\n{first.Log}");
            await first.KillAsync();
            keptAtKill = await Store().LoadKeptAsync("pubsub-kill");
        }

        await using var second = await GeneratorProcess.StartAsync(null, redis.Address, settings);
        var run = (await GrpcRunKit.WatchToEndAsync(second.Client, "pubsub-kill", TimeSpan.FromSeconds(90)))[^1];
        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}\n{second.Log}");

        var kept = await Store().LoadKeptAsync("pubsub-kill");
        Assert.Equal(Target, kept.Count);
        Assert.Equal(Target, kept.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(keptAtKill.Select(k => k.CandidateId), kept.Take(keptAtKill.Count).Select(k => k.CandidateId));
        var instructions = AlpacaRecords.Instructions(run.DatasetPath);
        Assert.Equal(Target, instructions.Distinct(StringComparer.Ordinal).Count());
        Assert.All(instructions, i => Assert.Contains(i, plan.AllKeepable));
        GrpcRunKit.AssertExtrasMatchTheEngine(run.RegenPath, instructions);
    }

    private StateRunStore Store() => new(new RedisStateStore(ConnectionMultiplexer.Connect(redis.Address), "alpaca:"));

    public void Dispose() => _dir.Dispose();
}
