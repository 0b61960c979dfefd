using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Runs;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Export;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using Alpaca.Llm.IO.Exports;
using Alpaca.State;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using StackExchange.Redis;

namespace Alpaca.Generator.Api.Tests;

/// <summary>
/// Generator replicas share runs through leases in the state store: a run is worked on only under its lease, and
/// every write of it is fenced by the lease's token. Against the real stores (a local folder and redis-server) and
/// real generator processes on one Redis.
/// </summary>
public sealed class RunLeaseTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new("alpaca-gen-lease");

    [Theory]
    [InlineData("local")]
    [InlineData("redis")]
    public async Task A_deposed_holders_late_kept_and_checkpoint_writes_are_refused(string kind)
    {
        IStateStore state = kind == "local"
            ? new LocalFolderStateStore(_dir.File("state"))
            : new RedisStateStore(await ConnectionMultiplexer.ConnectAsync(redis.Address), $"test-{Guid.NewGuid():N}:");
        var store = new StateRunStore(state);
        var spec = new SelfInstructRunSpec
        {
            RunId = "fenced",
            Seeds = SeedTaskReader.Read(RepoPaths.Data("seed_tasks.jsonl")),
            PromptText = PromptTemplate.Default.Text,
            NumInstructions = 10,
            OutputDir = _dir.File("out"),
            Seed = 1,
        };
        var now = DateTimeOffset.UtcNow;
        var checkpoint = new RunCheckpoint { Status = RunStatus.Running, CreatedAt = now, UpdatedAt = now };

        // Replica A holds the run (no heartbeat here: A is about to be paused past its TTL).
        var a = await state.TryAcquireLeaseAsync(StateRunStore.LeaseKey("fenced"), "gen-a/1", TimeSpan.FromMilliseconds(300));
        Assert.NotNull(a);
        var asA = new FencedRunStore(store, () => a);
        await asA.CreateAsync(spec, checkpoint);
        await asA.AppendKeptAsync("fenced", [Record("r0.p0.s0")]);
        await asA.SaveCheckpointAsync("fenced", checkpoint with { NextRound = 1 });

        // A's lease expires; replica B takes the run over and goes on from the durable state.
        await Task.Delay(600);
        var b = await state.TryAcquireLeaseAsync(StateRunStore.LeaseKey("fenced"), "gen-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(b);
        Assert.True(b.FencingToken > a.FencingToken);
        var asB = new FencedRunStore(store, () => b);
        Assert.Single((await asB.LoadAsync("fenced"))!.Kept);
        await asB.AppendKeptAsync("fenced", [Record("r1.p0.s0")]);
        await asB.SaveCheckpointAsync("fenced", checkpoint with { NextRound = 2, Counters = new RunCounters { Kept = 2 } });

        // A wakes up with its round in hand: the same candidate (a duplicate, had it landed) and a stale checkpoint are refused.
        await Assert.ThrowsAsync<RunLeaseLostException>(() => asA.AppendKeptAsync("fenced", [Record("r1.p0.s0")]));
        await Assert.ThrowsAsync<RunLeaseLostException>(() => asA.SaveCheckpointAsync("fenced", checkpoint with { NextRound = 1, Status = RunStatus.Failed }));

        // The whole run loop on A's store stops at its first write, before it asks the teacher anything.
        using var teacher = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri("http://127.0.0.1:9/v1"), Model = "t", Retry = new RetryPolicy { MaxRetries = 0 } });
        await Assert.ThrowsAsync<RunLeaseLostException>(() => new GenerationRun(asA, teacher, new InProcessDeduplicator()).RunAsync(spec));

        var stored = await store.LoadAsync("fenced");
        Assert.Equal(["r0.p0.s0", "r1.p0.s0"], stored!.Kept.Select(k => k.CandidateId));
        Assert.Equal(RunStatus.Running, stored.Checkpoint.Status);
        Assert.Equal(2, stored.Checkpoint.NextRound);
        Assert.Equal(2, stored.Checkpoint.Counters.Kept);
        (state as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("local")]
    [InlineData("redis")]
    public async Task A_deposed_holders_late_export_does_not_replace_the_new_holders_files(string kind)
    {
        IStateStore state = kind == "local"
            ? new LocalFolderStateStore(_dir.File("state"))
            : new RedisStateStore(await ConnectionMultiplexer.ConnectAsync(redis.Address), $"test-{Guid.NewGuid():N}:");
        var store = new StateRunStore(state);
        var outDir = _dir.File("export-out");

        // A teacher that answers nothing for a long while: replica A's run sits in its first round.
        await using var teacher = new TeacherServer(new ReplyPlan(seed: 5, target: 10, batch: 5), delay: TimeSpan.FromMinutes(5));
        var runSpec = new SelfInstructRunSpec
        {
            RunId = "export-fenced",
            Seeds = SeedTaskReader.Read(RepoPaths.Data("seed_tasks.jsonl")),
            PromptText = PromptTemplate.Default.Text,
            NumInstructions = 10,
            OutputDir = outDir,
            Seed = 1,
        };
        var a = await state.TryAcquireLeaseAsync(StateRunStore.LeaseKey("export-fenced"), "gen-a/1", TimeSpan.FromMinutes(1));
        Assert.NotNull(a);
        using var teacherClient = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri(teacher.BaseUrl), Model = "t", Retry = new RetryPolicy { MaxRetries = 0 } });
        using var stopA = new CancellationTokenSource();
        var runA = new GenerationRun(new FencedRunStore(store, () => a), teacherClient, new InProcessDeduplicator()).RunAsync(runSpec, stopA.Token);
        await WaitUntilAsync(() => teacher.Requests > 0, TimeSpan.FromSeconds(60));

        // A is frozen past its lease (freed here as an expiry would); B takes the run over and exports its dataset.
        Assert.True(await state.ReleaseLeaseAsync(a));
        var b = await state.TryAcquireLeaseAsync(StateRunStore.LeaseKey("export-fenced"), "gen-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(b);
        using (var exportOfB = DatasetFiles.Stage(outDir, [Record("r0.p0.s0"), Record("r1.p0.s0")], b.FencingToken))
        {
            await exportOfB.CommitAsync(new RunExportFence(new FencedRunStore(store, () => b), "export-fenced"));
        }

        var bFiles = (File.ReadAllText(Path.Combine(outDir, DatasetFiles.DatasetFileName)), File.ReadAllText(Path.Combine(outDir, DatasetFiles.RegenFileName)));

        // A thaws and is stopped: a stopped run brings its exports up to date, which for A is refused, so B's files stay.
        await stopA.CancelAsync();
        await Assert.ThrowsAsync<RunLeaseLostException>(() => runA);
        Assert.Equal(bFiles, (File.ReadAllText(Path.Combine(outDir, DatasetFiles.DatasetFileName)), File.ReadAllText(Path.Combine(outDir, DatasetFiles.RegenFileName))));
        Assert.Equal([DatasetFiles.DatasetFileName, DatasetFiles.RegenFileName], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        (state as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("local")]
    [InlineData("redis")]
    public async Task A_holder_frozen_between_its_export_confirmation_and_its_renames_leaves_the_new_holders_files(string kind)
    {
        IStateStore state = kind == "local"
            ? new LocalFolderStateStore(_dir.File("state"))
            : new RedisStateStore(await ConnectionMultiplexer.ConnectAsync(redis.Address), $"test-{Guid.NewGuid():N}:");
        var store = new StateRunStore(state);
        var outDir = _dir.File("frozen-out");
        var runSpec = new SelfInstructRunSpec
        {
            RunId = "export-frozen",
            Seeds = SeedTaskReader.Read(RepoPaths.Data("seed_tasks.jsonl")),
            PromptText = PromptTemplate.Default.Text,
            NumInstructions = 10,
            OutputDir = outDir,
            Seed = 1,
        };

        // Replica A's teacher answers nothing for a long while: A sits in its first round, nothing kept.
        await using var slow = new TeacherServer(new ReplyPlan(seed: 5, target: 10, batch: 5), delay: TimeSpan.FromMinutes(5));
        using var slowClient = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri(slow.BaseUrl), Model = "t", Retry = new RetryPolicy { MaxRetries = 0 } });
        var a = await state.TryAcquireLeaseAsync(StateRunStore.LeaseKey("export-frozen"), "gen-a/1", TimeSpan.FromMinutes(1));
        Assert.NotNull(a);
        var frozenA = new FreezeAfterExportConfirmation(new FencedRunStore(store, () => a));
        using var stopA = new CancellationTokenSource();
        var runA = new GenerationRun(frozenA, slowClient, new InProcessDeduplicator()).RunAsync(runSpec, stopA.Token);
        await WaitUntilAsync(() => slow.Requests > 0, TimeSpan.FromSeconds(60));

        // A is stopped, so it brings its export up to date: its confirmation succeeds (A still holds the lease) and A
        // freezes right after it, before any rename (a GC pause or SIGSTOP there).
        await stopA.CancelAsync();
        await frozenA.Confirmed.WaitAsync(TimeSpan.FromSeconds(60));

        // A's lease ends while it is frozen (freed here as an expiry would); B takes the run over and finishes it.
        Assert.True(await state.ReleaseLeaseAsync(a));
        var b = await state.TryAcquireLeaseAsync(StateRunStore.LeaseKey("export-frozen"), "gen-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(b);
        await using var fast = new TeacherServer(new ReplyPlan(seed: 5, target: 10, batch: 5));
        using var fastClient = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri(fast.BaseUrl), Model = "t", Retry = new RetryPolicy { MaxRetries = 0 } });
        var ofB = await new GenerationRun(new FencedRunStore(store, () => b), fastClient, new InProcessDeduplicator()).RunAsync(runSpec);
        Assert.True(ofB.Status == RunStatus.Succeeded, $"{ofB.Status}: {ofB.Error}");
        Assert.Equal(10, ofB.Kept);
        var filesOfB = TopLevelFiles(outDir);
        Assert.Equal(10, AlpacaRecords.Instructions(Path.Combine(outDir, DatasetFiles.DatasetFileName)).Count);

        // A thaws and carries on with its renames (its export holds no record): the final files must still be B's.
        frozenA.Thaw();
        var errorOfA = await Xunit.Record.ExceptionAsync(() => runA);
        Assert.Equal(filesOfB, TopLevelFiles(outDir));
        Assert.IsType<ExportSupersededException>(errorOfA);

        // The confirmed record names B's generation, the only one kept, and the dataset's digest is the published one.
        var confirmed = await store.LoadExportAsync("export-frozen");
        Assert.NotNull(confirmed);
        Assert.Equal(b.FencingToken, confirmed.FencingToken);
        Assert.Equal([confirmed.Generation], Directory.GetDirectories(ExportFolder.Root(outDir)).Select(Path.GetFileName));
        var datasetSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(outDir, DatasetFiles.DatasetFileName))));
        Assert.Equal(datasetSha, confirmed.Find(DatasetFiles.DatasetFileName)!.Sha256);
        Assert.Equal(datasetSha, (await store.LoadAsync("export-frozen"))!.Checkpoint.DatasetSha256);
        (state as IDisposable)?.Dispose();
    }

    [Fact]
    public async Task Two_replicas_share_a_run_and_when_the_holder_is_killed_the_other_finishes_it_with_exactly_the_target()
    {
        const int target = 120;
        var dedupPort = FreePort.Next();
        await using var dedup = await DedupHost.StartAsync(redis.Address, dedupPort);
        var plan = new ReplyPlan(seed: 53, target: target, batch: 5, extraRounds: 40);
        await using var teacher = new TeacherServer(plan, delay: TimeSpan.FromMilliseconds(80));
        var settings = DedupHost.PubSubGeneratorSettings(dedupPort);

        // Two replicas on one Redis: one consumer group, so the run's decisions reach either of them.
        await using var holder = await GeneratorProcess.StartAsync(null, redis.Address, settings);
        await using var other = await GeneratorProcess.StartAsync(null, redis.Address, settings);
        await holder.Client.StartRunAsync(new StartRunRequest { RunId = "replicas", Spec = GrpcRunKit.Spec(teacher.BaseUrl, target, _dir.File("out"), concurrency: 2, extras: true) });
        var before = await GrpcRunKit.WaitForKeptAsync(holder.Client, "replicas", target / 3, TimeSpan.FromSeconds(60));
        Assert.True(before.State == RunState.Running, $"{before.State}: {before.Error}\n{holder.Log}");

        // The other replica knows the run from the shared store but has not touched it while its holder lives.
        var seen = (await other.Client.GetRunAsync(new GetRunRequest { RunId = "replicas" })).Run;
        Assert.Equal(RunState.Running, seen.State);
        Assert.DoesNotContain("resumes it", other.Log, StringComparison.Ordinal);

        await holder.KillAsync();
        var keptAtKill = await Store().LoadKeptAsync("replicas");
        Assert.InRange(keptAtKill.Count, target / 3, target - 1);

        // Its lease expires (2 s) and the other replica resumes the run from the durable state.
        var run = (await GrpcRunKit.WatchToEndAsync(other.Client, "replicas", TimeSpan.FromSeconds(60)))[^1];
        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}\n{other.Log}");
        Assert.Contains("resumes it", other.Log, StringComparison.Ordinal);

        var kept = await Store().LoadKeptAsync("replicas");
        Assert.Equal(target, kept.Count);
        Assert.Equal(target, kept.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(keptAtKill.Select(k => k.CandidateId), kept.Take(keptAtKill.Count).Select(k => k.CandidateId));
        var instructions = AlpacaRecords.Instructions(run.DatasetPath);
        Assert.Equal(target, instructions.Distinct(StringComparer.Ordinal).Count());
        Assert.All(instructions, i => Assert.Contains(i, plan.AllKeepable));

        // Exactly the dedup engine's extras for the kept log in order: no candidate was decided twice or out of order.
        GrpcRunKit.AssertExtrasMatchTheEngine(run.RegenPath, instructions);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeout}");
            await Task.Delay(20);
        }
    }

    /// <summary>The files directly in <paramref name="dir"/> (the exports; not the generations under .exports/) with their contents.</summary>
    private static Dictionary<string, string> TopLevelFiles(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);

    private static KeptRecord Record(string id) => new(id, $"Instruction {id} for the fencing test", "", "output");

    private StateRunStore Store() => new(new RedisStateStore(ConnectionMultiplexer.Connect(redis.Address), "alpaca:"));

    public void Dispose() => _dir.Dispose();
}
