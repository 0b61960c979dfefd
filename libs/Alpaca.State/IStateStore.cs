namespace Alpaca.State;

/// <summary>
/// Durable key/value state plus append-only lists, the one abstraction every service keeps its
/// pools, runs and jobs in. Keys are '/'-separated paths such as <c>dedup/ns/alpaca-1/pool</c>.
/// Implementations: <see cref="RedisStateStore"/> (platform) and <see cref="LocalFolderStateStore"/> (embedded default).
/// Every write is durable when the returned task completes.
/// </summary>
public interface IStateStore
{
    /// <summary>The value of a key, or null when absent.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Sets a key (last write wins).</summary>
    Task SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default);

    /// <summary>Sets a key only when it does not exist yet; true when this call created it.</summary>
    Task<bool> SetIfAbsentAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a key that disappears after <paramref name="expiry"/> (records that are only needed for a
    /// while, such as processed event ids), so such records do not grow without bound.
    /// </summary>
    Task SetWithExpiryAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>Deletes a key or list; true when something was deleted.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Appends an item to an append-only list and returns the list's new length.</summary>
    Task<long> AppendAsync(string listKey, ReadOnlyMemory<byte> item, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="count"/> items of a list from <paramref name="start"/>.</summary>
    Task<IReadOnlyList<byte[]>> ReadListAsync(string listKey, long start = 0, long count = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>Number of items of a list (0 when absent).</summary>
    Task<long> ListLengthAsync(string listKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the lease on <paramref name="key"/> for <paramref name="owner"/> when nobody holds it (or the
    /// holder's lease expired), in one atomic step; null when another owner holds it. The lease carries
    /// a fencing token greater than that of every earlier lease on the key. Lease keys live apart from
    /// values: a lease on <c>jobs/j1</c> does not touch the value <c>jobs/j1</c>.
    /// </summary>
    Task<StateLease?> TryAcquireLeaseAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Extends a lease still held by its owner with the same token to now + <paramref name="ttl"/>;
    /// null when it expired and was taken over (or released): the caller is deposed and must stop.</summary>
    Task<StateLease?> RenewLeaseAsync(StateLease lease, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Releases a lease if it is still the current one; true when this call released it.</summary>
    Task<bool> ReleaseLeaseAsync(StateLease lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets <paramref name="key"/> only while <paramref name="lease"/> carries the newest fencing token of its
    /// lease key (no later lease was handed out), in one atomic step with the check; false: refused, a newer
    /// holder exists and the caller is deposed. This is how a paused or partitioned holder's late write is
    /// kept from overwriting the work of the replica that took over.
    /// </summary>
    Task<bool> SetIfFencedAsync(string key, ReadOnlyMemory<byte> value, StateLease lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends to <paramref name="listKey"/> only while <paramref name="lease"/> carries the newest fencing token of
    /// its lease key, check and append in one step (the list counterpart of <see cref="SetIfFencedAsync"/>, for
    /// append-only logs such as a generation run's kept records); the list's new length, or null when refused.
    /// </summary>
    Task<long?> AppendIfFencedAsync(string listKey, ReadOnlyMemory<byte> item, StateLease lease, CancellationToken cancellationToken = default);

    /// <summary>Keys (not lists) that start with a prefix, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken = default);
}
