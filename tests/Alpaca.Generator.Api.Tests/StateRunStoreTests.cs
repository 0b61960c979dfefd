using Alpaca.Generator.Api.Runs;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using Alpaca.State;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using StackExchange.Redis;

namespace Alpaca.Generator.Api.Tests;

/// <summary>
/// <see cref="StateRunStore"/> appends a round's kept records one list item at a time. A crash half way
/// through a round (here: the state store fails after some of its records) must leave a run that resumes to
/// exactly the data set an uninterrupted run gives: no record lost, none written twice, the same counters.
/// </summary>
public sealed class StateRunStoreTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private const int Target = 60;
    private readonly TempDir _dir = new("alpaca-gen-store");

    [Theory]
    [InlineData("local")]
    [InlineData("redis")]
    public async Task A_crash_in_the_middle_of_a_rounds_appends_is_replayed_to_exactly_the_uninterrupted_result(string kind)
    {
        var plan = new ReplyPlan(seed: 41, target: Target, batch: 5);
        await using var server = new TeacherServer(plan);
        using var teacher = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri(server.BaseUrl), Model = "t", Retry = new RetryPolicy { MaxRetries = 0 } });
        IStateStore state = kind == "local"
            ? new LocalFolderStateStore(_dir.File("state"))
            : new RedisStateStore(await ConnectionMultiplexer.ConnectAsync(redis.Address), $"test-{Guid.NewGuid():N}:");
        var spec = new SelfInstructRunSpec
        {
            RunId = "crash",
            Seeds = SeedTaskReader.Read(RepoPaths.Data("seed_tasks.jsonl")),
            PromptText = PromptTemplate.Default.Text,
            NumInstructions = Target,
            OutputDir = _dir.File("out"),
            Seed = 3,
        };

        // The third round's records: the store dies after the second of them.
        Assert.True(plan.KeptPerRound[2] >= 3, "the plan's third round should keep several records");
        var faulty = new FailingAppends(state, failAtAppend: plan.KeptPerRound[0] + plan.KeptPerRound[1] + 2);
        var firstRun = new GenerationRun(new StateRunStore(faulty), teacher, new InProcessDeduplicator());
        await Assert.ThrowsAsync<IOException>(() => firstRun.RunAsync(spec));
        var store = new StateRunStore(state);
        var atCrash = await store.LoadAsync("crash");
        Assert.NotNull(atCrash!.Checkpoint.Pending);
        Assert.Equal(faulty.FailAtAppend, atCrash.Kept.Count);

        // A new process: a fresh run object and a fresh in-process dedup pool, on the same state.
        var result = await new GenerationRun(store, teacher, new InProcessDeduplicator()).RunAsync(spec);
        Assert.Equal(RunStatus.Succeeded, result.Status);
        var kept = await store.LoadKeptAsync("crash");
        Assert.Equal(plan.KeptInstructions.Take(Target), kept.Select(k => k.Instruction));
        Assert.Equal(Target, kept.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(plan.ExpectedGenerated, result.Generated);
        Assert.Equal(plan.ExpectedRejections.OrderBy(r => r.Key), result.RejectedByReason.Where(r => r.Value > 0).OrderBy(r => r.Key));
        Assert.Equal(plan.Surplus, result.Surplus);
        Assert.Equal(plan.ScriptRounds, result.Rounds);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>A state store whose kept-log appends fail from the given one on (0 = never), like a process dying there.</summary>
    private sealed class FailingAppends(IStateStore inner, int failAtAppend) : IStateStore
    {
        private int _appends;

        public int FailAtAppend { get; } = failAtAppend;

        public Task<long> AppendAsync(string listKey, ReadOnlyMemory<byte> item, CancellationToken cancellationToken = default) =>
            listKey.EndsWith("/kept", StringComparison.Ordinal) && FailAtAppend > 0 && ++_appends > FailAtAppend
                ? throw new IOException("simulated crash while appending kept records")
                : inner.AppendAsync(listKey, item, cancellationToken);

        public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public Task SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) => inner.SetAsync(key, value, cancellationToken);

        public Task<bool> SetIfAbsentAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) => inner.SetIfAbsentAsync(key, value, cancellationToken);

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public Task<IReadOnlyList<byte[]>> ReadListAsync(string listKey, long start = 0, long count = long.MaxValue, CancellationToken cancellationToken = default) => inner.ReadListAsync(listKey, start, count, cancellationToken);

        public Task<long> ListLengthAsync(string listKey, CancellationToken cancellationToken = default) => inner.ListLengthAsync(listKey, cancellationToken);

        public Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListKeysAsync(prefix, cancellationToken);

        public Task SetWithExpiryAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken = default) => inner.SetWithExpiryAsync(key, value, expiry, cancellationToken);

        public Task<StateLease?> TryAcquireLeaseAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.TryAcquireLeaseAsync(key, owner, ttl, cancellationToken);

        public Task<StateLease?> RenewLeaseAsync(StateLease lease, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.RenewLeaseAsync(lease, ttl, cancellationToken);

        public Task<bool> ReleaseLeaseAsync(StateLease lease, CancellationToken cancellationToken = default) => inner.ReleaseLeaseAsync(lease, cancellationToken);

        public Task<bool> SetIfFencedAsync(string key, ReadOnlyMemory<byte> value, StateLease lease, CancellationToken cancellationToken = default) => inner.SetIfFencedAsync(key, value, lease, cancellationToken);

        public Task<long?> AppendIfFencedAsync(string listKey, ReadOnlyMemory<byte> item, StateLease lease, CancellationToken cancellationToken = default) =>
            listKey.EndsWith("/kept", StringComparison.Ordinal) && FailAtAppend > 0 && ++_appends > FailAtAppend
                ? throw new IOException("simulated crash while appending kept records")
                : inner.AppendIfFencedAsync(listKey, item, lease, cancellationToken);
    }
}
