using StackExchange.Redis;

namespace Alpaca.State;

/// <summary>
/// State in Redis: a value is a string key <c>{prefix}kv:{key}</c>, a list is a Redis list
/// <c>{prefix}list:{key}</c>, a lease is <c>{prefix}lease:{{key}}</c> (value <c>token|owner</c>, expiring
/// with PX) beside its fencing counter <c>{prefix}fence:{{key}}</c> (INCR, never expires); the braces are a
/// cluster hash tag so the Lua scripts touch one slot. Durability is Redis's own (AOF/RDB as configured for the deployment).
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

    public Task SetWithExpiryAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(expiry, TimeSpan.Zero);
        return Db.StringSetAsync(Kv(key), value, expiry);
    }

    public async Task<StateLease?> TryAcquireLeaseAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ValidateLease(owner, ttl);
        var expiresAt = DateTimeOffset.UtcNow + ttl; // taken before the call: never later than Redis's own expiry
        var result = await Db.ScriptEvaluateAsync(AcquireScript, [Lease(key), Fence(key)], [owner, (long)ttl.TotalMilliseconds]).ConfigureAwait(false);
        return result.IsNull ? null : new StateLease(key, owner, (long)result, expiresAt);
    }

    public async Task<StateLease?> RenewLeaseAsync(StateLease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ValidateLease(lease.Owner, ttl);
        var expiresAt = DateTimeOffset.UtcNow + ttl;
        var renewed = (long)await Db.ScriptEvaluateAsync(RenewScript, [Lease(lease.Key)], [LeaseValue(lease), (long)ttl.TotalMilliseconds]).ConfigureAwait(false);
        return renewed == 1 ? lease with { ExpiresAt = expiresAt } : null;
    }

    public async Task<bool> ReleaseLeaseAsync(StateLease lease, CancellationToken cancellationToken = default) =>
        (long)await Db.ScriptEvaluateAsync(ReleaseScript, [Lease(lease.Key)], [LeaseValue(lease)]).ConfigureAwait(false) == 1;

    public async Task<bool> SetIfFencedAsync(string key, ReadOnlyMemory<byte> value, StateLease lease, CancellationToken cancellationToken = default) =>
        (long)await Db.ScriptEvaluateAsync(FencedSetScript, [Fence(lease.Key), Kv(key)], [lease.FencingToken, value]).ConfigureAwait(false) == 1;

    public async Task<long?> AppendIfFencedAsync(string listKey, ReadOnlyMemory<byte> item, StateLease lease, CancellationToken cancellationToken = default)
    {
        var length = (long)await Db.ScriptEvaluateAsync(FencedAppendScript, [Fence(lease.Key), List(listKey)], [lease.FencingToken, item]).ConfigureAwait(false);
        return length < 0 ? null : length;
    }

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

    // One script each so that "is it free?" and "take it" (or "is it still mine?" and "extend/free it") are one step.
    private const string AcquireScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return false end
        local token = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'PX', ARGV[2])
        return token
        """;

    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
        return 0
        """;

    // The fence counter only grows, so "equal to my token" means "nobody was handed a lease after me".
    // KEYS[2] may sit in another cluster slot; this deployment runs one Redis, where scripts may touch any key.
    private const string FencedSetScript = """
        if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return 0 end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """;

    private const string FencedAppendScript = """
        if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return -1 end
        return redis.call('RPUSH', KEYS[2], ARGV[2])
        """;

    internal static void ValidateLease(string owner, TimeSpan ttl)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.FromMilliseconds(1));
    }

    private static string LeaseValue(StateLease lease) => $"{lease.FencingToken}|{lease.Owner}";

    private RedisKey Lease(string key) => _prefix + "lease:{" + StateKey.Validate(key) + "}";

    private RedisKey Fence(string key) => _prefix + "fence:{" + StateKey.Validate(key) + "}";

    private RedisKey Kv(string key) => _prefix + "kv:" + StateKey.Validate(key);

    private RedisKey List(string key) => _prefix + "list:" + StateKey.Validate(key);
}
