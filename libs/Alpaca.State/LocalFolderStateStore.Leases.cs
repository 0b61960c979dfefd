using System.Buffers.Binary;
using System.Text.Json;

namespace Alpaca.State;

/// <summary>
/// Leases in the local folder: <c>{key}.lease</c> holds the current lease as JSON and <c>{key}.fence</c>
/// the last fencing token handed out (an int64 that is never reset, so tokens keep growing after a
/// release or an expiry). Both are written atomically under the store's lock and an exclusive OS file
/// lock on <c>.leases.lock</c> in the root, so check and take are one step across every process that
/// shares the folder (replicas on one node, or on a shared volume whose file system honours flock);
/// expiry is by the UTC wall clock, so such replicas need clocks that agree to well under a TTL.
/// </summary>
public sealed partial class LocalFolderStateStore
{
    private const string LeaseSuffix = ".lease";
    private const string FenceSuffix = ".fence";
    private const string LockFile = ".leases.lock";

    public async Task<StateLease?> TryAcquireLeaseAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        RedisStateStore.ValidateLease(owner, ttl);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var folderLock = await LockFolderAsync(cancellationToken).ConfigureAwait(false);
            if (CurrentLease(key) is not null)
            {
                return null;
            }

            var fencePath = PathOf(key, FenceSuffix);
            var token = LastToken(key) + 1;
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
            using var folderLock = await LockFolderAsync(cancellationToken).ConfigureAwait(false);
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
            using var folderLock = await LockFolderAsync(cancellationToken).ConfigureAwait(false);
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

    public async Task<bool> SetIfFencedAsync(string key, ReadOnlyMemory<byte> value, StateLease lease, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key, ValueSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var folderLock = await LockFolderAsync(cancellationToken).ConfigureAwait(false);
            if (LastToken(lease.Key) != lease.FencingToken)
            {
                return false;
            }

            WriteAtomically(path, value.Span);
            DeleteIfExists(PathOf(key, ExpiringSuffix));
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<long?> AppendIfFencedAsync(string listKey, ReadOnlyMemory<byte> item, StateLease lease, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var folderLock = await LockFolderAsync(cancellationToken).ConfigureAwait(false);
            return LastToken(lease.Key) != lease.FencingToken ? null : AppendLocked(listKey, item.Span);
        }
        finally
        {
            _lock.Release();
        }
    }

    private long LastToken(string key)
    {
        var fencePath = PathOf(key, FenceSuffix);
        return File.Exists(fencePath) ? BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(fencePath)) : 0;
    }

    /// <summary>
    /// The folder-wide lease lock: FileShare.None is an exclusive flock on Unix, which another process's
    /// open refuses with an IOException, so this polls until the holder (a few file writes) is done.
    /// </summary>
    private async Task<FileStream> LockFolderAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, LockFile);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(2, cancellationToken).ConfigureAwait(false);
            }
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
