using System.Text;
using Alpaca.State;
using Alpaca.TestSupport;
using StackExchange.Redis;

namespace Alpaca.Platform.Tests.State;

/// <summary>The same contract checks against both stores: a real local folder and a real redis-server.</summary>
public sealed class StateStoreTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
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
    public async Task Values_lists_and_prefix_listing_behave_alike(string kind)
    {
        var store = Create(kind);
        Assert.Null(await store.GetAsync("runs/r1"));
        await store.SetAsync("runs/r1", "one"u8.ToArray());
        await store.SetAsync("runs/r2", "two"u8.ToArray());
        await store.SetAsync("jobs/j1", "job"u8.ToArray());
        Assert.Equal("one", Encoding.UTF8.GetString((await store.GetAsync("runs/r1"))!));
        Assert.False(await store.SetIfAbsentAsync("runs/r1", "again"u8.ToArray()));
        Assert.True(await store.SetIfAbsentAsync("runs/r3", "three"u8.ToArray()));
        Assert.Equal(["runs/r1", "runs/r2", "runs/r3"], await store.ListKeysAsync("runs/"));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(i + 1, await store.AppendAsync("pools/ns", Encoding.UTF8.GetBytes($"item{i}")));
        }

        Assert.Equal(5, await store.ListLengthAsync("pools/ns"));
        Assert.Equal(["item2", "item3"], (await store.ReadListAsync("pools/ns", 2, 2)).Select(Encoding.UTF8.GetString));
        Assert.Equal(5, (await store.ReadListAsync("pools/ns")).Count);
        Assert.Empty(await store.ReadListAsync("pools/ns", 9));
        Assert.True(await store.DeleteAsync("pools/ns"));
        Assert.Equal(0, await store.ListLengthAsync("pools/ns"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync("../escape"));
    }

    [Fact]
    public async Task A_torn_append_from_a_crash_is_cut_off_and_earlier_items_survive()
    {
        var path = Path.Combine(_dir.Path, "torn");
        using (var store = new LocalFolderStateStore(path))
        {
            await store.AppendAsync("pool", "first"u8.ToArray());
            await store.AppendAsync("pool", "second"u8.ToArray());
        }

        // A crash in the middle of the third append leaves a header and half a payload.
        var file = Path.Combine(path, "pool.list");
        var bytes = File.ReadAllBytes(file).ToList();
        bytes.AddRange([20, 0, 0, 0, 1, 2, 3, 4, (byte)'h', (byte)'a']);
        File.WriteAllBytes(file, [.. bytes]);

        using var reopened = new LocalFolderStateStore(path);
        Assert.Equal(["first", "second"], (await reopened.ReadListAsync("pool")).Select(Encoding.UTF8.GetString));
        Assert.Equal(3, await reopened.AppendAsync("pool", "third"u8.ToArray()));
        using var again = new LocalFolderStateStore(path);
        Assert.Equal(["first", "second", "third"], (await again.ReadListAsync("pool")).Select(Encoding.UTF8.GetString));
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
