using System.Security.Claims;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using StackExchange.Redis;

namespace Alpaca.Platform.Tests.Auth;

/// <summary>
/// Token quotas kept in Redis (a real server on a loopback port) are one budget per key across inference replicas:
/// what one replica charged, another refuses, with the retry hint the bucket's arithmetic gives.
/// </summary>
public sealed class SharedTokenQuotaTests : IDisposable
{
    private readonly RedisServer _redis = new();

    private static ClaimsPrincipal Caller(string id, int? tokensPerMinute) => new(new ClaimsIdentity(
        new[] { new Claim(ApiScopes.KeyIdClaimType, id) }
            .Concat(tokensPerMinute is { } n ? [new Claim(ApiScopes.TokensPerMinuteClaimType, n.ToString(System.Globalization.CultureInfo.InvariantCulture))] : []),
        "test"));

    [Fact]
    public async Task Replicas_sharing_redis_share_each_keys_budget()
    {
        using var a = await ConnectionMultiplexer.ConnectAsync(_redis.Address);
        using var b = await ConnectionMultiplexer.ConnectAsync(_redis.Address);
        var prefix = $"quota-{Guid.NewGuid():N}:";
        var options = new AuthOptions { TokensPerMinute = 1000 };
        var replicaA = new TokenQuotas(options, redis: a, prefix: prefix);
        var replicaB = new TokenQuotas(options, redis: b, prefix: prefix);
        var alice = Caller("alice", 20);

        Assert.Null(await replicaB.RetryAfterAsync(alice));
        await replicaA.ChargeAsync(alice, 25);

        // 20 - 25 = -5: six tokens must come back at 20 per minute, 18 s (less what refilled meanwhile).
        var retry = await replicaB.RetryAfterAsync(alice);
        Assert.NotNull(retry);
        Assert.InRange(retry.Value, TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(18));

        // Another key, and the default limit, are separate budgets; the bucket expires on its own.
        Assert.Null(await replicaB.RetryAfterAsync(Caller("bob", null)));
        var ttl = await a.GetDatabase().KeyTimeToLiveAsync(prefix + "auth/quota/alice");
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(140));

        // A process of its own (no Redis) knows nothing of what the others charged.
        Assert.Null(await new TokenQuotas(options).RetryAfterAsync(alice));
    }

    public void Dispose() => _redis.Dispose();
}
