using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// Generated tokens per minute per caller (its key id, or <c>jwt:SUB</c>): a token bucket of the caller's limit
/// that refills at limit/minute. A request is admitted while the bucket is not empty and charged afterwards with
/// what was actually generated (the length of a generation is not known before it runs), so one request may
/// overdraw it; the next ones wait until it has refilled. The limit is the key's own
/// (<see cref="ApiScopes.TokensPerMinuteClaimType"/>), else <see cref="AuthOptions.TokensPerMinute"/>; 0 = none.
/// Callers without an identity (a peer service with the service credential) are not counted.
/// </summary>
public sealed class TokenQuotas(AuthOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Null when <paramref name="caller"/> may start a generation; otherwise how long until it may.</summary>
    public TimeSpan? RetryAfter(ClaimsPrincipal? caller)
    {
        if (Partition(caller) is not { } p)
        {
            return null;
        }

        var bucket = _buckets.GetOrAdd(p.Id, _ => new Bucket(p.Limit, _time.GetTimestamp()));
        return bucket.RetryAfter(p.Limit, _time);
    }

    /// <summary>Charges <paramref name="tokens"/> generated for <paramref name="caller"/>.</summary>
    public void Charge(ClaimsPrincipal? caller, int tokens)
    {
        if (tokens > 0 && Partition(caller) is { } p)
        {
            _buckets.GetOrAdd(p.Id, _ => new Bucket(p.Limit, _time.GetTimestamp())).Take(tokens, p.Limit, _time);
        }
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
        private double _tokens = limit;
        private readonly Lock _gate = new();
        private long _at = now;

        public TimeSpan? RetryAfter(int limit, TimeProvider time)
        {
            lock (_gate)
            {
                Refill(limit, time);
                // Empty (or overdrawn): wait until one token has come back.
                return _tokens >= 1 ? null : TimeSpan.FromMinutes((1 - _tokens) / limit);
            }
        }

        public void Take(int tokens, int limit, TimeProvider time)
        {
            lock (_gate)
            {
                Refill(limit, time);
                _tokens -= tokens;
            }
        }

        private void Refill(int limit, TimeProvider time)
        {
            var now = time.GetTimestamp();
            _tokens = Math.Min(limit, _tokens + (time.GetElapsedTime(_at, now).TotalMinutes * limit));
            _at = now;
        }
    }
}
