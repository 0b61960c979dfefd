using System.Collections.Concurrent;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// Coordination between the gRPC side and the runner: a wake-up signal when a job is queued, and the
/// cancellation handle of the job on the device.
/// </summary>
public sealed class JobQueue
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    /// <summary>Wakes the runner (several signals before it looks collapse into one).</summary>
    public void Signal()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task WaitAsync(CancellationToken cancellationToken) => _signal.WaitAsync(cancellationToken);

    public void SetRunning(string jobId, CancellationTokenSource cancellation) => _running[jobId] = cancellation;

    public void ClearRunning(string jobId) => _running.TryRemove(jobId, out _);

    /// <summary>Stops the job if it is on the device (between micro-batches); false when it is not running here.</summary>
    public bool TryCancelRunning(string jobId)
    {
        if (!_running.TryGetValue(jobId, out var cancellation))
        {
            return false;
        }

        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It finished in the meantime.
        }

        return true;
    }
}
