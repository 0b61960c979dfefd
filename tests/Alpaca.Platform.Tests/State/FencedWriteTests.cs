using System.Text;
using Alpaca.State;
using Alpaca.TestSupport;
using StackExchange.Redis;

namespace Alpaca.Platform.Tests.State;

/// <summary>Fenced writes and heartbeated leases, the same checks against a real local folder and a real redis-server.</summary>
public sealed class FencedWriteTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<IDisposable> _disposables = [];

    public static TheoryData<string> Stores => ["local", "redis"];

    private IStateStore Create(string kind, string? prefix = null)
    {
        if (kind == "local")
        {
            var store = new LocalFolderStateStore(_dir.Path);
            _disposables.Add(store);
            return store;
        }

        var mux = ConnectionMultiplexer.Connect(redis.Address);
        _disposables.Add(mux);
        return new RedisStateStore(mux, prefix ?? $"t{Guid.NewGuid():N}:");
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_deposed_holders_late_write_is_refused_and_the_new_owners_value_stays(string kind)
    {
        var store = Create(kind);
        var deposed = await store.TryAcquireLeaseAsync("trainer/jobs/j1", "pod-a/1", TimeSpan.FromMilliseconds(200));
        Assert.NotNull(deposed);
        Assert.True(await store.SetIfFencedAsync("trainer/jobs/j1", "a: step 4"u8.ToArray(), deposed));

        // pod-a pauses past its TTL (GC, a partition); pod-b takes the job over and writes.
        await Task.Delay(500);
        var current = await store.TryAcquireLeaseAsync("trainer/jobs/j1", "pod-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(current);
        Assert.True(await store.SetIfFencedAsync("trainer/jobs/j1", "b: step 6"u8.ToArray(), current));

        // pod-a wakes up and writes what it had in hand: refused, pod-b's value stays.
        Assert.False(await store.SetIfFencedAsync("trainer/jobs/j1", "a: step 8"u8.ToArray(), deposed));
        Assert.Equal("b: step 6", Encoding.UTF8.GetString((await store.GetAsync("trainer/jobs/j1"))!));

        // After pod-b releases, its token is still the newest, so its late writes pass until someone else takes over.
        Assert.True(await store.ReleaseLeaseAsync(current));
        Assert.True(await store.SetIfFencedAsync("trainer/jobs/j1", "b: done"u8.ToArray(), current));
        var third = await store.TryAcquireLeaseAsync("trainer/jobs/j1", "pod-c/3", TimeSpan.FromMinutes(1));
        Assert.NotNull(third);
        Assert.False(await store.SetIfFencedAsync("trainer/jobs/j1", "b: again"u8.ToArray(), current));
        Assert.Equal("b: done", Encoding.UTF8.GetString((await store.GetAsync("trainer/jobs/j1"))!));

        // A lease that never existed on the key fences nothing in.
        Assert.False(await store.SetIfFencedAsync("trainer/jobs/j2", "x"u8.ToArray(), third with { Key = "trainer/jobs/j2" }));
        Assert.Null(await store.GetAsync("trainer/jobs/j2"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_heartbeat_keeps_a_short_lease_past_its_ttl_and_another_owner_takes_it_once_the_heartbeat_stops(string kind)
    {
        var store = Create(kind);
        // A 3 s TTL is renewed each second: a CI machine running the whole suite on 2 cores has been seen to
        // hold a thread-pool wake-up back by more than a 1.5 s TTL's two spare renewals.
        var ttl = TimeSpan.FromSeconds(3);
        var held = await HeldLease.TryAcquireAsync(store, "runs/r1", "pod-a/1", ttl);
        Assert.NotNull(held);
        await Task.Delay(ttl * 2.5); // two and a half TTLs: only renewals kept it
        Assert.False(held.Lost.IsCancellationRequested);
        Assert.Null(await store.TryAcquireLeaseAsync("runs/r1", "pod-b/2", ttl));
        Assert.True(await held.SetAsync("runs/r1", "a"u8.ToArray()));

        // Disposing releases it at once: the next replica need not wait for the TTL.
        await held.DisposeAsync();
        var next = await HeldLease.TryAcquireAsync(store, "runs/r1", "pod-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(next);
        Assert.True(next.Lease.FencingToken > held.Lease.FencingToken);
        await next.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_holder_whose_lease_was_taken_over_learns_it_is_deposed_and_its_writes_are_refused(string kind)
    {
        var store = Create(kind);
        var ttl = TimeSpan.FromMilliseconds(900);
        await using var held = await HeldLease.TryAcquireAsync(store, "trainer/jobs/j9", "pod-a/1", ttl);
        Assert.NotNull(held);

        // Someone with the power to (an operator, or a store that lost the key) frees the lease; another owner takes it.
        Assert.True(await store.ReleaseLeaseAsync(held.Lease));
        var other = await store.TryAcquireLeaseAsync("trainer/jobs/j9", "pod-b/2", TimeSpan.FromMinutes(1));
        Assert.NotNull(other);

        // Within a heartbeat (TTL/3) the holder's renewal is refused and Lost fires.
        var lost = new TaskCompletionSource();
        held.Lost.Register(lost.SetResult);
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(await held.SetAsync("trainer/jobs/j9", "late"u8.ToArray()));
        Assert.Null(await store.GetAsync("trainer/jobs/j9"));
    }

    [Fact]
    public async Task Two_local_stores_on_one_folder_take_each_lease_exactly_once_through_the_file_lock()
    {
        // Two store objects have two in-process locks: only the OS file lock keeps them apart, as for two processes.
        using var a = new LocalFolderStateStore(_dir.Path);
        using var b = new LocalFolderStateStore(_dir.Path);
        for (var round = 0; round < 20; round++)
        {
            var key = $"jobs/r{round}";
            var both = await Task.WhenAll(
                Task.Run(() => a.TryAcquireLeaseAsync(key, "pod-a/1", TimeSpan.FromMinutes(1))),
                Task.Run(() => b.TryAcquireLeaseAsync(key, "pod-b/2", TimeSpan.FromMinutes(1))));
            var winner = Assert.Single(both, l => l is not null)!;
            Assert.Equal(1, winner.FencingToken);
        }
    }

    [Fact]
    public void A_replica_instance_id_is_the_pod_name_plus_a_random_part_so_two_pid_1_containers_differ()
    {
        var first = ReplicaInstance.For("trainer-7d9f-abcde");
        var second = ReplicaInstance.For("trainer-7d9f-abcde"); // the same pod restarted: a new life, a new owner
        Assert.StartsWith("trainer-7d9f-abcde/", first);
        Assert.NotEqual(first, second);
        Assert.StartsWith(Environment.MachineName + "/", ReplicaInstance.For(null));
    }

    public void Dispose()
    {
        foreach (var d in _disposables)
        {
            d.Dispose();
        }

        _dir.Dispose();
    }
}
