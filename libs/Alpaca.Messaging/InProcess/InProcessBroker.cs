using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Alpaca.Messaging.InProcess;

/// <summary>
/// The embedded default: one broker per process shared by every service host in it (<c>alpaca up</c>).
/// Each consumer group (app id) has one queue per topic; group members compete for its messages.
/// Not durable: a process exit loses undelivered events, which is why the platform uses Redis or Dapr.
/// </summary>
public sealed class InProcessBroker
{
    private readonly ConcurrentDictionary<(string Topic, string Group), Channel<Delivery>> _queues = new();
    private readonly ConcurrentQueue<(EventEnvelope Envelope, string Group, string Reason)> _deadLetters = new();

    /// <summary>Events given up on, with the consumer group and the reason.</summary>
    public IReadOnlyCollection<(EventEnvelope Envelope, string Group, string Reason)> DeadLetters => _deadLetters;

    public void Publish(EventEnvelope envelope)
    {
        foreach (var ((topic, _), queue) in _queues)
        {
            if (topic == envelope.Topic)
            {
                queue.Writer.TryWrite(new Delivery(envelope, 1));
            }
        }
    }

    /// <summary>The queue of a consumer group on a topic (created on first use).</summary>
    public ChannelReader<Delivery> Subscribe(string topic, string group) => Queue(topic, group).Reader;

    public void Requeue(string topic, string group, Delivery delivery) => Queue(topic, group).Writer.TryWrite(delivery);

    public void DeadLetter(EventEnvelope envelope, string group, string reason) => _deadLetters.Enqueue((envelope, group, reason));

    private Channel<Delivery> Queue(string topic, string group) =>
        _queues.GetOrAdd((topic, group), _ => Channel.CreateUnbounded<Delivery>());

    public sealed record Delivery(EventEnvelope Envelope, int Attempt);
}
