using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using StackExchange.Redis;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// Generated tokens per minute per caller (its key id, or <c>jwt:SUB</c>): a token bucket of the caller's limit
/// that refills at limit/minute. A request is admitted while the bucket is not empty and charged afterwards with
/// what was actually generated (the length of a generation is not known before it runs), so one request may
/// overdraw it; the next ones wait until it has refilled. The limit is the key's own
/// (<see cref="ApiScopes.TokensPerMinuteClaimType"/>), else <see cref="AuthOptions.TokensPerMinute"/>; 0 = none.
/// Callers without an identity (a peer service with the service credential) are not counted.
/// With Redis (<paramref name="redis"/>, where the platform keeps its keys) the buckets are shared by every
/// replica, updated by one script with Redis's clock; otherwise they live in this process.
/// </summary>
public sealed class TokenQuotas(AuthOptions options, TimeProvider? time = null, IConnectionMultiplexer? redis = null, string prefix = "alpaca:")
{
    // KEYS[1] the bucket (hash t = tokens, at = ms); ARGV[1] limit, ARGV[2] tokens to take (0: just look).
    // The bucket outlives its refill time by a minute, so an idle key's bucket goes away on its own.
    private const string BucketScript = """
        local limit = tonumber(ARGV[1])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local t = tonumber(redis.call('HGET', KEYS[1], 't'))
        local at = tonumber(redis.call('HGET', KEYS[1], 'at'))
        if t == nil or at == nil then t = limit; at = now end
        t = math.min(limit, t + (now - at) * limit / 60000) - tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 't', tostring(t), 'at', tostring(now))
        redis.call('PEXPIRE', KEYS[1], 60000 + math.ceil(math.max(0, limit - t) * 60000 / limit))
        return tostring(t)
        """;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>True when the buckets are shared through Redis.</summary>
    public bool Shared => redis is not null;

    /// <summary>Null when <paramref name="caller"/> may start a generation; otherwise how long until it may.</summary>
    public async ValueTask<TimeSpan?> RetryAfterAsync(ClaimsPrincipal? caller)
    {
        if (Partition(caller) is not { } p)
        {
            return null;
        }

        var tokens = await TakeAsync(p, 0).ConfigureAwait(false);
        // Empty (or overdrawn): wait until one token has come back.
        return tokens >= 1 ? null : TimeSpan.FromMinutes((1 - tokens) / p.Limit);
    }

    /// <summary>Charges <paramref name="tokens"/> generated for <paramref name="caller"/>.</summary>
    public async ValueTask ChargeAsync(ClaimsPrincipal? caller, int tokens)
    {
        if (tokens > 0 && Partition(caller) is { } p)
        {
            try
            {
                await TakeAsync(p, tokens).ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // The tokens were generated and sent; a Redis outage loses this charge rather than failing the
                // finished response. (Admission needs Redis anyway: the key is validated there.)
            }
        }
    }

    private async ValueTask<double> TakeAsync((string Id, int Limit) p, int tokens)
    {
        if (redis is null)
        {
            return _buckets.GetOrAdd(p.Id, _ => new Bucket(p.Limit, _time.GetTimestamp())).Take(tokens, p.Limit, _time);
        }

        var result = await redis.GetDatabase().ScriptEvaluateAsync(BucketScript, [(RedisKey)(prefix + "auth/quota/" + p.Id)], [p.Limit, tokens]).ConfigureAwait(false);
        return double.Parse((string)result!, CultureInfo.InvariantCulture);
    }

    private (string Id, int Limit)? Partition(ClaimsPrincipal? caller)
    {
        if (caller?.Identity?.IsAuthenticated != true || caller.FindFirst(ApiScopes.KeyIdClaimType)?.Value is not { } id)
        {
            return null;
        }

        var limit = caller.FindFirst(ApiScopes.TokensPerMinuteClaimType)?.Value is { } own
            ? int.Parse(own, CultureInfo.InvariantCulture)
            : options.TokensPerMinute;
        return limit > 0 ? (id, limit) : null;
    }

    private sealed class Bucket(int limit, long now)
    {
        private readonly Lock _gate = new();
        private double _tokens = limit;
        private long _at = now;

        public double Take(int tokens, int limit, TimeProvider time)
        {
            lock (_gate)
            {
                var now = time.GetTimestamp();
                _tokens = Math.Min(limit, _tokens + (time.GetElapsedTime(_at, now).TotalMinutes * limit)) - tokens;
                _at = now;
                return _tokens;
            }
        }
    }
}
