using System.Buffers.Binary;
using System.Text.Json;

namespace Alpaca.State;

/// <summary>
/// Leases in the local folder: <c>{key}.lease</c> holds the current lease as JSON and <c>{key}.fence</c>
/// the last fencing token handed out (an int64 that is never reset, so tokens keep growing after a
/// release or an expiry). Both are written atomically under the store's lock, which makes check and
/// take one step within the one process that owns the folder; expiry is by the UTC wall clock.
/// </summary>
public sealed partial class LocalFolderStateStore
{
    private const string LeaseSuffix = ".lease";
    private const string FenceSuffix = ".fence";

    public async Task<StateLease?> TryAcquireLeaseAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        RedisStateStore.ValidateLease(owner, ttl);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (CurrentLease(key) is not null)
            {
                return null;
            }

            var fencePath = PathOf(key, FenceSuffix);
            var token = (File.Exists(fencePath) ? BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(fencePath)) : 0) + 1;
            var tokenBytes = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(tokenBytes, token);
            WriteAtomically(fencePath, tokenBytes); // first: a crash after it wastes a token, never reuses one
            var lease = new StateLease(key, owner, token, DateTimeOffset.UtcNow + ttl);
            WriteAtomically(PathOf(key, LeaseSuffix), JsonSerializer.SerializeToUtf8Bytes(lease));
            return lease;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<StateLease?> RenewLeaseAsync(StateLease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        RedisStateStore.ValidateLease(lease.Owner, ttl);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsCurrent(lease))
            {
                return null;
            }

            var renewed = lease with { ExpiresAt = DateTimeOffset.UtcNow + ttl };
            WriteAtomically(PathOf(lease.Key, LeaseSuffix), JsonSerializer.SerializeToUtf8Bytes(renewed));
            return renewed;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<bool> ReleaseLeaseAsync(StateLease lease, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsCurrent(lease))
            {
                return false;
            }

            File.Delete(PathOf(lease.Key, LeaseSuffix));
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    private bool IsCurrent(StateLease lease) =>
        CurrentLease(lease.Key) is { } current && current.FencingToken == lease.FencingToken && current.Owner == lease.Owner;

    /// <summary>The unexpired lease on a key, or null. An unreadable lease file (a torn write cannot happen,
    /// but a hand edit can) counts as no lease: the fence file still keeps tokens growing.</summary>
    private StateLease? CurrentLease(string key)
    {
        var path = PathOf(key, LeaseSuffix);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var lease = JsonSerializer.Deserialize<StateLease>(File.ReadAllBytes(path));
            return lease is not null && lease.ExpiresAt > DateTimeOffset.UtcNow ? lease : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
