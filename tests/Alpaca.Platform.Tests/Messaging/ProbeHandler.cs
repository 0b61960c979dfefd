using System.Collections.Concurrent;
using Alpaca.Contracts.V1;
using Alpaca.Messaging;

namespace Alpaca.Platform.Tests.Messaging;

/// <summary>What a test handler saw, and how it should behave; one per host.</summary>
public sealed class Probe
{
    public ConcurrentQueue<(string EventId, int Attempt, string RunId)> Handled { get; } = new();

    public ConcurrentDictionary<string, int> Attempts { get; } = new();

    /// <summary>Behaviour per delivery; default succeeds.</summary>
    public Func<EventContext, Task> Behaviour { get; set; } = _ => Task.CompletedTask;

    public async Task WaitForAsync(Func<Probe, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout}; handled {Handled.Count}, attempts {string.Join(",", Attempts.Select(a => $"{a.Key}={a.Value}"))}.");
            }

            await Task.Delay(25);
        }
    }
}

/// <summary>Records DatasetPublished events and applies the probe's behaviour.</summary>
public sealed class ProbeHandler(Probe probe) : IEventHandler<DatasetPublished>
{
    public async Task HandleAsync(DatasetPublished @event, EventContext context, CancellationToken cancellationToken)
    {
        probe.Attempts.AddOrUpdate(context.Envelope.Id, 1, (_, n) => n + 1);
        await probe.Behaviour(context);
        probe.Handled.Enqueue((context.Envelope.Id, context.Attempt, @event.RunId));
    }
}
