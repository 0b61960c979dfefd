using System.Security.Cryptography;
using System.Text;
using Alpaca.State;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>A stored API key: never the key itself, only its HMAC-SHA256 under the pepper.</summary>
public sealed record ApiKeyRecord
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required IReadOnlyList<ApiScope> Scopes { get; init; }

    /// <summary>Base64 HMAC-SHA256(pepper, key).</summary>
    public required string Hash { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>This key's generated tokens per minute (null: <c>Alpaca:Auth:TokensPerMinute</c>; 0: unlimited).</summary>
    public int? TokensPerMinute { get; init; }

    public bool Has(ApiScope scope) => RevokedAt is null && (Scopes.Contains(scope) || Scopes.Contains(ApiScope.Admin));
}

/// <summary>
/// API keys in the platform's state store (<c>auth/keys/ID</c>). A key is <c>alp_ID_SECRET</c>: ID (64 random
/// bits, hex) finds the record, SECRET (256 random bits, base64url) is what the hash protects, so a lookup is one
/// read and the comparison is constant-time. Nothing is cached: a revoked key is refused on its next call.
/// </summary>
public sealed class ApiKeyStore(IStateStore store, string? pepper = null, TimeProvider? time = null)
{
    public const string Prefix = "alp_";
    private const string KeysPrefix = "auth/keys/";

    // Last use is written at most this often per key, so every call is not also a write.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private byte[]? _pepper = string.IsNullOrEmpty(pepper) ? null : Encoding.UTF8.GetBytes(pepper);

    /// <summary>Creates a key; the returned plain key is the only time it is seen.</summary>
    public async Task<(ApiKeyRecord Record, string Key)> CreateAsync(string name, IReadOnlyList<ApiScope> scopes, CancellationToken cancellationToken = default) =>
        await CreateAsync(name, scopes, tokensPerMinute: null, cancellationToken).ConfigureAwait(false);

    /// <summary>Creates a key with its own generated-tokens-per-minute quota (null: the configured default).</summary>
    public async Task<(ApiKeyRecord Record, string Key)> CreateAsync(string name, IReadOnlyList<ApiScope> scopes, int? tokensPerMinute, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegative(tokensPerMinute ?? 0, nameof(tokensPerMinute));
        if (scopes.Count == 0)
        {
            throw new ArgumentException("A key needs at least one scope.", nameof(scopes));
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var key = $"{Prefix}{id}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        var record = new ApiKeyRecord
        {
            Id = id,
            Name = name,
            Scopes = [.. scopes.Distinct()],
            Hash = await HashAsync(key, cancellationToken).ConfigureAwait(false),
            CreatedAt = _time.GetUtcNow(),
            TokensPerMinute = tokensPerMinute,
        };
        await store.SetJsonAsync(KeysPrefix + id, record, cancellationToken).ConfigureAwait(false);
        return (record, key);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        var records = new List<ApiKeyRecord>();
        foreach (var k in await store.ListKeysAsync(KeysPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (await store.GetJsonAsync<ApiKeyRecord>(k, cancellationToken).ConfigureAwait(false) is { } r)
            {
                records.Add(r);
            }
        }

        return records;
    }

    /// <summary>Revokes a key by id; false when there is no such key.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!IsId(id) || await store.GetJsonAsync<ApiKeyRecord>(KeysPrefix + id, cancellationToken).ConfigureAwait(false) is not { } record)
        {
            return false;
        }

        await store.SetJsonAsync(KeysPrefix + id, record with { RevokedAt = record.RevokedAt ?? _time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The first start of a store: an admin key when none exists yet (null otherwise).</summary>
    public async Task<string?> CreateInitialAdminKeyAsync(CancellationToken cancellationToken = default)
    {
        if ((await store.ListKeysAsync(KeysPrefix, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            return null;
        }

        return (await CreateAsync("admin", [ApiScope.Admin], cancellationToken).ConfigureAwait(false)).Key;
    }

    /// <summary>The record of a valid, unrevoked key, or null.</summary>
    public async Task<ApiKeyRecord?> ValidateAsync(string key, CancellationToken cancellationToken = default)
    {
        // alp_ + 16 hex + _ + 43 base64url characters.
        if (key.Length != Prefix.Length + 16 + 1 + 43 || !key.StartsWith(Prefix, StringComparison.Ordinal) || key[Prefix.Length + 16] != '_')
        {
            return null;
        }

        var id = key.Substring(Prefix.Length, 16);
        if (!IsId(id) || await store.GetJsonAsync<ApiKeyRecord>(KeysPrefix + id, cancellationToken).ConfigureAwait(false) is not { } record)
        {
            return null;
        }

        var expected = Convert.FromBase64String(record.Hash);
        var actual = Convert.FromBase64String(await HashAsync(key, cancellationToken).ConfigureAwait(false));
        if (!CryptographicOperations.FixedTimeEquals(expected, actual) || record.RevokedAt is not null)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        if (record.LastUsedAt is not { } last || now - last >= LastUsedResolution)
        {
            record = record with { LastUsedAt = now };
            await store.SetJsonAsync(KeysPrefix + id, record, cancellationToken).ConfigureAwait(false);
        }

        return record;
    }

    private async Task<string> HashAsync(string key, CancellationToken cancellationToken)
    {
        var pepper = _pepper ??= await StoredPepperAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToBase64String(HMACSHA256.HashData(pepper, Encoding.UTF8.GetBytes(key)));
    }

    // Without a configured pepper, one random pepper per store, kept beside the keys: it still makes a leaked
    // hash useless on its own row, but a secret outside the store (Alpaca:Auth:Pepper) is the production choice.
    private async Task<byte[]> StoredPepperAsync(CancellationToken cancellationToken)
    {
        await store.SetIfAbsentAsync("auth/pepper", RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        return await store.GetAsync("auth/pepper", cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The key store lost its pepper.");
    }

    private static bool IsId(string id) => id.Length == 16 && id.All(char.IsAsciiHexDigitLower);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
