using StackExchange.Redis;

namespace Alpaca.State;

/// <summary>
/// State in Redis: a value is a string key <c>{prefix}kv:{key}</c>, a list is a Redis list
/// <c>{prefix}list:{key}</c>. Durability is Redis's own (AOF/RDB as configured for the deployment).
/// </summary>
public sealed class RedisStateStore : IStateStore
{
    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;

    public RedisStateStore(IConnectionMultiplexer redis, string prefix = "alpaca:")
    {
        _redis = redis;
        _prefix = prefix;
    }

    private IDatabase Db => _redis.GetDatabase();

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var value = await Db.StringGetAsync(Kv(key)).ConfigureAwait(false);
        return value.IsNull ? null : (byte[])value!;
    }

    public Task SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        Db.StringSetAsync(Kv(key), value);

    public Task<bool> SetIfAbsentAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        Db.StringSetAsync(Kv(key), value, when: When.NotExists);

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await Db.KeyDeleteAsync([Kv(key), List(key)]).ConfigureAwait(false) > 0;

    public Task<long> AppendAsync(string listKey, ReadOnlyMemory<byte> item, CancellationToken cancellationToken = default) =>
        Db.ListRightPushAsync(List(listKey), item);

    public async Task<IReadOnlyList<byte[]>> ReadListAsync(string listKey, long start = 0, long count = long.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return [];
        }

        var stop = count == long.MaxValue || start + count - 1 < start ? -1 : start + count - 1;
        var values = await Db.ListRangeAsync(List(listKey), start, stop).ConfigureAwait(false);
        return values.Select(v => (byte[])v!).ToList();
    }

    public Task<long> ListLengthAsync(string listKey, CancellationToken cancellationToken = default) =>
        Db.ListLengthAsync(List(listKey));

    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var kvPrefix = _prefix + "kv:";
        var keys = new List<string>();
        foreach (var endpoint in _redis.GetEndPoints())
        {
            var server = _redis.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }

            await foreach (var key in server.KeysAsync(pattern: kvPrefix + prefix + "*").WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                keys.Add(key.ToString()[kvPrefix.Length..]);
            }
        }

        return keys.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    private RedisKey Kv(string key) => _prefix + "kv:" + StateKey.Validate(key);

    private RedisKey List(string key) => _prefix + "list:" + StateKey.Validate(key);
}
