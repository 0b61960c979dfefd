using System.Threading.Channels;
using Alpaca.Contracts.V1;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// In-process fan-out of job snapshots to WatchJob streams. Durable state lives in <see cref="JobRepository"/>;
/// this only wakes the watchers of this replica, which is the one running the job.
/// </summary>
public sealed class JobUpdates
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Channel<Job>>> _watchers = new(StringComparer.Ordinal);

    /// <summary>Snapshots of one job from now on; dispose to stop.</summary>
    public Subscription Subscribe(string jobId)
    {
        // Unbounded: a watcher slower than the steps still sees every snapshot, and the terminal one.
        var channel = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            if (!_watchers.TryGetValue(jobId, out var list))
            {
                _watchers[jobId] = list = [];
            }

            list.Add(channel);
        }

        return new Subscription(channel.Reader, () => Remove(jobId, channel));
    }

    public void Publish(Job job)
    {
        lock (_gate)
        {
            if (_watchers.TryGetValue(job.Id, out var list))
            {
                foreach (var channel in list)
                {
                    channel.Writer.TryWrite(job.Clone());
                }
            }
        }
    }

    private void Remove(string jobId, Channel<Job> channel)
    {
        lock (_gate)
        {
            if (_watchers.TryGetValue(jobId, out var list) && list.Remove(channel) && list.Count == 0)
            {
                _watchers.Remove(jobId);
            }
        }

        channel.Writer.TryComplete();
    }

    public sealed class Subscription(ChannelReader<Job> reader, Action dispose) : IDisposable
    {
        public ChannelReader<Job> Reader { get; } = reader;

        public void Dispose() => dispose();
    }
}
