using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Alpaca.State;

/// <summary>
/// A lease kept alive by a heartbeat: renewed every TTL/3 on a fixed cadence, so two renewals may fail (a slow
/// store, a short partition) before it lapses. <see cref="Lost"/> fires when a renewal is refused (another replica took
/// over) or when the lease's expiry passes without a successful renewal: from then on the holder must stop,
/// and its writes through <see cref="SetAsync"/> are refused by the fencing token anyway. Disposing stops the
/// heartbeat and releases the lease (so another replica may take the work at once).
/// </summary>
public sealed class HeldLease : IAsyncDisposable
{
    private readonly IStateStore _store;
    private readonly TimeSpan _ttl;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _heartbeat;
    private StateLease _lease;

    private HeldLease(IStateStore store, StateLease lease, TimeSpan ttl, ILogger logger)
    {
        _store = store;
        _lease = lease;
        _ttl = ttl;
        _logger = logger;
        _heartbeat = Task.Run(HeartbeatAsync);
    }

    /// <summary>The lease as last renewed.</summary>
    public StateLease Lease => Volatile.Read(ref _lease);

    /// <summary>Cancelled once this holder is deposed (refused renewal or expiry passed).</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Takes the lease on <paramref name="key"/> and starts its heartbeat; null when another owner holds it.</summary>
    public static async Task<HeldLease?> TryAcquireAsync(IStateStore store, string key, string owner, TimeSpan ttl, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var lease = await store.TryAcquireLeaseAsync(key, owner, ttl, cancellationToken).ConfigureAwait(false);
        return lease is null ? null : new HeldLease(store, lease, ttl, logger ?? NullLogger.Instance);
    }

    /// <summary>A fenced write of <paramref name="key"/>; false when a newer lease exists (this holder is deposed).</summary>
    public async Task<bool> SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        if (await _store.SetIfFencedAsync(key, value, Lease, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        Depose("a fenced write was refused");
        return false;
    }

    private async Task HeartbeatAsync()
    {
        // A fixed cadence (not "wait, then renew"): a slow renewal or a late wake-up on a busy thread pool
        // does not push every later renewal back.
        using var timer = new PeriodicTimer(_ttl / 3);
        while (!_lost.IsCancellationRequested)
        {
            try
            {
                if (!await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var current = Lease;
            try
            {
                // Past our own clock's expiry the store still decides: its expiry started when it took the
                // write, a little after ours, and a renewal it grants means nobody was handed the lease since.
                // Bounded, so a store that hangs instead of failing still lets Lost fire near the expiry.
                var remaining = current.ExpiresAt - DateTimeOffset.UtcNow;
                var renewed = await _store.RenewLeaseAsync(current, _ttl, _stop.Token)
                    .WaitAsync(remaining > _ttl / 3 ? remaining : _ttl / 3, _stop.Token).ConfigureAwait(false);
                if (renewed is null)
                {
                    Depose(DateTimeOffset.UtcNow >= current.ExpiresAt
                        ? "its expiry passed before a renewal succeeded"
                        : "the store refused its renewal");
                    return;
                }

                Volatile.Write(ref _lease, renewed);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (DateTimeOffset.UtcNow < current.ExpiresAt)
            {
                // Keep trying until the expiry: a store that is back within the TTL costs nothing.
                _logger.LogWarning(e, "Renewing the lease on {Key} failed; retrying until it expires at {ExpiresAt}", current.Key, current.ExpiresAt);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Renewing the lease on {Key} failed after its expiry", current.Key);
                Depose("its expiry passed before a renewal succeeded");
                return;
            }
        }
    }

    private void Depose(string why)
    {
        if (!_lost.IsCancellationRequested)
        {
            _logger.LogWarning("The lease on {Key} (token {Token}) is lost: {Why}", Lease.Key, Lease.FencingToken, why);
            _lost.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!_lost.IsCancellationRequested)
        {
            try
            {
                await _store.ReleaseLeaseAsync(Lease, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Releasing the lease on {Key} failed; it expires by itself", Lease.Key);
            }
        }

        _stop.Dispose();
        _lost.Dispose();
    }
}
