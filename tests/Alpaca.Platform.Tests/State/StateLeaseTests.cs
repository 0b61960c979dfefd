using System.Diagnostics;
using System.Text;
using Alpaca.State;
using Alpaca.TestSupport;
using StackExchange.Redis;

namespace Alpaca.Platform.Tests.State;

/// <summary>Leases and expiring values, the same checks against a real local folder and a real redis-server.</summary>
public sealed class StateLeaseTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<IDisposable> _disposables = [];

    public static TheoryData<string> Stores => ["local", "redis"];

    private IStateStore Create(string kind)
    {
        if (kind == "local")
        {
            var store = new LocalFolderStateStore(_dir.Path);
            _disposables.Add(store);
            return store;
        }

        var mux = ConnectionMultiplexer.Connect(redis.Address);
        _disposables.Add(mux);
        return new RedisStateStore(mux, $"t{Guid.NewGuid():N}:");
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_lease_is_exclusive_renewable_releasable_and_its_fencing_token_only_grows(string kind)
    {
        var store = Create(kind);
        var first = await store.TryAcquireLeaseAsync("jobs/j1", "replica-a", TimeSpan.FromMinutes(1));
        Assert.NotNull(first);
        Assert.Equal("replica-a", first.Owner);
        Assert.True(first.ExpiresAt > DateTimeOffset.UtcNow.AddSeconds(30));
        Assert.Null(await store.TryAcquireLeaseAsync("jobs/j1", "replica-b", TimeSpan.FromMinutes(1)));
        Assert.Null(await store.TryAcquireLeaseAsync("jobs/j1", "replica-a", TimeSpan.FromMinutes(1))); // not re-entrant either
        Assert.Null(await store.GetAsync("jobs/j1")); // a lease is not the key's value

        var renewed = await store.RenewLeaseAsync(first, TimeSpan.FromMinutes(2));
        Assert.NotNull(renewed);
        Assert.Equal(first.FencingToken, renewed.FencingToken);
        Assert.True(renewed.ExpiresAt > first.ExpiresAt);

        Assert.False(await store.ReleaseLeaseAsync(first with { Owner = "replica-b" }));
        Assert.True(await store.ReleaseLeaseAsync(renewed));
        Assert.False(await store.ReleaseLeaseAsync(renewed));

        var second = await store.TryAcquireLeaseAsync("jobs/j1", "replica-b", TimeSpan.FromMinutes(1));
        Assert.NotNull(second);
        Assert.True(second.FencingToken > first.FencingToken);
        var other = await store.TryAcquireLeaseAsync("jobs/j2", "replica-a", TimeSpan.FromMinutes(1));
        Assert.NotNull(other); // leases are per key
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task An_expired_lease_is_taken_over_and_the_deposed_holder_can_neither_renew_nor_release(string kind)
    {
        var store = Create(kind);
        var deposed = await store.TryAcquireLeaseAsync("runs/r1", "dead-replica", TimeSpan.FromMilliseconds(200));
        Assert.NotNull(deposed);
        await Task.Delay(600);

        var current = await store.TryAcquireLeaseAsync("runs/r1", "live-replica", TimeSpan.FromMinutes(1));
        Assert.NotNull(current);
        Assert.True(current.FencingToken > deposed.FencingToken);
        Assert.Null(await store.RenewLeaseAsync(deposed, TimeSpan.FromMinutes(1)));
        Assert.False(await store.ReleaseLeaseAsync(deposed));
        Assert.Null(await store.TryAcquireLeaseAsync("runs/r1", "dead-replica", TimeSpan.FromMinutes(1)));
        Assert.NotNull(await store.RenewLeaseAsync(current, TimeSpan.FromMinutes(1)));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Of_many_concurrent_acquirers_exactly_one_gets_the_lease(string kind)
    {
        var store = Create(kind);
        var attempts = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            Task.Run(() => store.TryAcquireLeaseAsync("jobs/contended", $"owner-{i}", TimeSpan.FromMinutes(1)))));
        Assert.Single(attempts, a => a is not null);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_value_with_an_expiry_reads_and_lists_until_it_expires_and_then_is_gone(string kind)
    {
        // The checks of the live value must all run within its expiry: 2 s, not the 400 ms this once had, which a
        // loaded CI machine (every test assembly at once on 2 cores, a first call's JIT) could spend on the first
        // four calls, failing a correct store.
        var store = Create(kind);
        var expiry = TimeSpan.FromSeconds(2);
        await store.SetWithExpiryAsync("seen/e1", "one"u8.ToArray(), expiry);
        var written = Stopwatch.StartNew(); // the value expires at most `expiry` after this
        await store.SetWithExpiryAsync("seen/e2", "two"u8.ToArray(), TimeSpan.FromMinutes(5));
        Assert.Equal("one", Encoding.UTF8.GetString((await store.GetAsync("seen/e1"))!));
        Assert.False(await store.SetIfAbsentAsync("seen/e1", "again"u8.ToArray()));
        Assert.Equal(["seen/e1", "seen/e2"], await store.ListKeysAsync("seen/"));

        // Just past the expiry (both stores count in milliseconds), however long the checks above took.
        var left = expiry - written.Elapsed + TimeSpan.FromMilliseconds(20);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }

        Assert.Null(await store.GetAsync("seen/e1"));
        Assert.Equal(["seen/e2"], await store.ListKeysAsync("seen/"));
        Assert.True(await store.SetIfAbsentAsync("seen/e1", "new"u8.ToArray()));
        Assert.Equal("new", Encoding.UTF8.GetString((await store.GetAsync("seen/e1"))!));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SetWithExpiryAsync("seen/e3", "x"u8.ToArray(), TimeSpan.Zero));
    }

    [Fact]
    public async Task The_local_folder_sweeps_expired_values_off_the_disk()
    {
        // The long-lived value first: a new store's first expiring write also sweeps (then not again for ten
        // minutes), and when that first write was one of the 100 ms values, a loaded machine could take 100 ms
        // between computing its expiry and that sweep, sweeping it there, so the purge below found 4, not 5.
        using var store = new LocalFolderStateStore(Path.Combine(_dir.Path, "sweep"));
        await store.SetWithExpiryAsync("messaging/processed/kept", new byte[] { 1 }, TimeSpan.FromMinutes(5));
        for (var i = 0; i < 5; i++)
        {
            await store.SetWithExpiryAsync($"messaging/processed/e{i}", new byte[] { 1 }, TimeSpan.FromMilliseconds(100));
        }

        await Task.Delay(500);
        Assert.Equal(5, await store.PurgeExpiredAsync());
        var files = Directory.GetFiles(Path.Combine(store.Root, "messaging", "processed"));
        Assert.Equal(["kept.ttl"], files.Select(Path.GetFileName));
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
