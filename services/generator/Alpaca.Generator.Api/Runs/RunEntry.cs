using System.Threading.Channels;
using Alpaca.Contracts.V1;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// One run as the manager holds it: the request, the latest snapshot, the task running it in this
/// process (if any; only while this replica holds the run's lease), and the watchers of WatchRun. A run held
/// by another replica is refreshed here from the stored checkpoint. Watchers get the latest snapshot, not every one: a slow
/// client skips intermediate states (a channel of one, oldest dropped) but always sees the final one.
/// </summary>
internal sealed class RunEntry(string id, RunSpec request, DateTimeOffset createdAt, string outputDir, Run snapshot)
{
    private readonly Lock _lock = new();
    private readonly List<Channel<Run>> _watchers = [];
    private Run _snapshot = snapshot;

    public string Id { get; } = id;

    public RunSpec Request { get; } = request;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public string OutputDir { get; } = outputDir;

    public CancellationTokenSource? Cts { get; set; }

    public Task? Task { get; set; }

    public volatile bool CancelRequested;

    /// <summary>The stored checkpoint's <c>updated_at</c> last published from the store (runs held by another replica).</summary>
    public DateTimeOffset? StoredUpdatedAt { get; set; }

    public Run Snapshot
    {
        get
        {
            lock (_lock)
            {
                return _snapshot;
            }
        }
    }

    public bool IsActive => Task is { IsCompleted: false };

    public void Publish(Run run)
    {
        lock (_lock)
        {
            _snapshot = run;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(run);
                if (RunMapper.IsTerminal(run.State))
                {
                    watcher.Writer.TryComplete();
                }
            }

            if (RunMapper.IsTerminal(run.State))
            {
                _watchers.Clear();
            }
        }
    }

    /// <summary>A reader that starts with the current snapshot and ends after a terminal one.</summary>
    public Channel<Run> Watch()
    {
        var channel = Channel.CreateBounded<Run>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            channel.Writer.TryWrite(_snapshot);
            if (RunMapper.IsTerminal(_snapshot.State))
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _watchers.Add(channel);
            }
        }

        return channel;
    }

    public void Unwatch(Channel<Run> channel)
    {
        lock (_lock)
        {
            _watchers.Remove(channel);
        }
    }

    /// <summary>Ends every watch (the service is stopping).</summary>
    public void EndWatches()
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }
}
