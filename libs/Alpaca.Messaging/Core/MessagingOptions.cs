namespace Alpaca.Messaging;

/// <summary>Configuration section <c>Alpaca:Messaging</c>.</summary>
public sealed class MessagingOptions
{
    /// <summary><c>inprocess</c> (default), <c>redis</c> or <c>dapr</c>.</summary>
    public string Transport { get; set; } = "inprocess";

    /// <summary>This service's name: the CloudEvents source and the consumer group.</summary>
    public string AppId { get; set; } = "alpaca";

    /// <summary>Deliveries of one event before it goes to the dead-letter stream.</summary>
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>TTL of the processing lease taken atomically before a handler runs and renewed every TTL/3
    /// while it runs: a handler may take as long as it needs, and a holder that died mid-handler keeps its
    /// event from running elsewhere for at most this long. (<c>ClaimIdleTime</c> only decides when a
    /// message is delivered again.)</summary>
    public TimeSpan ProcessingLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Per-handler processing leases by handler name (<c>Alpaca:Messaging:ProcessingLeases:ModelPublishedHandler</c>),
    /// overriding the one given to <c>AddEventHandler</c> and <see cref="ProcessingLease"/>.</summary>
    public Dictionary<string, TimeSpan> ProcessingLeases { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a "processed" record is kept: a redelivery older than this runs the handler again.
    /// Bounds the records' growth; keep it above the longest redelivery horizon (stream retention).</summary>
    public TimeSpan ProcessedRetention { get; set; } = TimeSpan.FromDays(7);

    public RedisStreamsOptions Redis { get; set; } = new();

    public DaprOptions Dapr { get; set; } = new();

    public sealed class RedisStreamsOptions
    {
        /// <summary>Key prefix of the streams.</summary>
        public string StreamPrefix { get; set; } = "alpaca:stream:";

        /// <summary>How long a delivered message may stay unacknowledged before another consumer claims it.
        /// Must exceed the slowest handler (like Dapr's processingTimeout).</summary>
        public TimeSpan ClaimIdleTime { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>How often to look for messages to claim.</summary>
        public TimeSpan ClaimInterval { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Wait between reads when a stream is empty (StackExchange.Redis has no blocking reads).</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

        /// <summary>Messages read per call.</summary>
        public int BatchSize { get; set; } = 16;

        /// <summary>Approximate maximum stream length (XADD MAXLEN ~); 0 = unbounded.</summary>
        public int MaxLength { get; set; } = 100_000;

        /// <summary>Exact maximum length of each dead-letter stream (XADD MAXLEN; the oldest go first); 0 = unbounded.</summary>
        public int DeadLetterMaxLength { get; set; } = 10_000;
    }

    public sealed class DaprOptions
    {
        /// <summary>Name of the Dapr pub/sub component.</summary>
        public string PubSubName { get; set; } = "pubsub";

        /// <summary>Suffix of the dead-letter topic Dapr moves dropped-after-retries events to.</summary>
        public string DeadLetterSuffix { get; set; } = ".deadletter";
    }
}
