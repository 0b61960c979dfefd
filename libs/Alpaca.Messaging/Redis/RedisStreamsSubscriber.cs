using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Alpaca.Messaging.Redis;

/// <summary>
/// Consumes this service's topics from Redis Streams with a consumer group per service (app id), so
/// replicas of one service compete and different services each get every event.
/// - A message is acknowledged (XACK) only after the handlers succeeded or the event was dead-lettered.
/// - A message left pending (handler failed, or the consumer died mid-handler) is claimed with XAUTOCLAIM
///   by any live consumer once idle for <c>ClaimIdleTime</c>, and delivered again.
/// - A message delivered <c>MaxDeliveries</c> times, or dropped by a handler, is copied to the
///   <c>{topic}:deadletter</c> stream (capped at <c>DeadLetterMaxLength</c>) with the reason and acknowledged,
///   unless another delivery is still running it (the dispatcher's processing lease is held): a slow
///   success is left to acknowledge itself.
/// - A group that vanished (Redis restarted without persistence, FLUSHALL, the stream deleted under its
///   consumers) answers <c>NOGROUP</c>; the group is then created again from the stream's beginning, so
///   every event published since is still delivered.
/// </summary>
public sealed partial class RedisStreamsSubscriber(
    IConnectionMultiplexer redis,
    EventDispatcher dispatcher,
    MessagingOptions options,
    ILogger<RedisStreamsSubscriber> logger) : BackgroundService
{
    /// <summary>This consumer's name within its group: unique per process.</summary>
    public string ConsumerName { get; } = $"{options.AppId}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    private IDatabase Db => redis.GetDatabase();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var topics = dispatcher.Topics;
        foreach (var topic in topics)
        {
            await EnsureGroupAsync(RedisStreamsEventBus.StreamKey(options, topic)).ConfigureAwait(false);
        }

        await Task.WhenAll(topics.Select(t => ConsumeAsync(t, stoppingToken)).Concat(topics.Select(t => ClaimLoopAsync(t, stoppingToken)))).ConfigureAwait(false);
    }

    private async Task EnsureGroupAsync(RedisKey stream)
    {
        try
        {
            await Db.StreamCreateConsumerGroupAsync(stream, options.AppId, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists: another replica or an earlier run created it.
        }
    }

    private static bool IsNoGroup(RedisServerException ex) => ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal);

    private async Task RecreateGroupAsync(string topic, RedisKey stream, CancellationToken stoppingToken)
    {
        LogGroupRecreated(topic, options.AppId);
        try
        {
            await EnsureGroupAsync(stream).ConfigureAwait(false);
        }
        catch (RedisException ex)
        {
            LogRedisError(ex, topic);
            await DelayQuietly(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task ConsumeAsync(string topic, CancellationToken stoppingToken)
    {
        var stream = RedisStreamsEventBus.StreamKey(options, topic);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var entries = await Db.StreamReadGroupAsync(stream, options.AppId, ConsumerName, StreamPosition.NewMessages, options.Redis.BatchSize).ConfigureAwait(false);
                if (entries.Length == 0)
                {
                    await Task.Delay(options.Redis.PollInterval, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                foreach (var entry in entries)
                {
                    await HandleAsync(topic, stream, entry, attempt: 1, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: a cancelled delay, or a call racing the multiplexer's disposal.
                return;
            }
            catch (RedisServerException ex) when (IsNoGroup(ex))
            {
                await RecreateGroupAsync(topic, stream, stoppingToken).ConfigureAwait(false);
            }
            catch (RedisException ex)
            {
                LogRedisError(ex, topic);
                await DelayQuietly(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The state store behind the dispatcher failed, or anything else: the message stays pending and
                // is claimed again; the consumer must not die (a BackgroundService that throws stops the host).
                LogRedisError(ex, topic);
                await DelayQuietly(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Takes over messages pending too long (failed or orphaned by a dead consumer).</summary>
    private async Task ClaimLoopAsync(string topic, CancellationToken stoppingToken)
    {
        var stream = RedisStreamsEventBus.StreamKey(options, topic);
        while (!stoppingToken.IsCancellationRequested)
        {
            await DelayQuietly(options.Redis.ClaimInterval, stoppingToken).ConfigureAwait(false);
            try
            {
                await ClaimOnceAsync(topic, stream, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: a cancelled delay, or a call racing the multiplexer's disposal.
                return;
            }
            catch (RedisServerException ex) when (IsNoGroup(ex))
            {
                await RecreateGroupAsync(topic, stream, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A Redis error or a failing state store: log, and claim again next interval.
                LogRedisError(ex, topic);
            }
        }
    }

    private async Task ClaimOnceAsync(string topic, RedisKey stream, CancellationToken stoppingToken)
    {
        RedisValue start = "0-0";
        do
        {
            var claimed = await Db.StreamAutoClaimAsync(stream, options.AppId, ConsumerName, (long)options.Redis.ClaimIdleTime.TotalMilliseconds, start, options.Redis.BatchSize).ConfigureAwait(false);
            foreach (var entry in claimed.ClaimedEntries)
            {
                if (entry.IsNull)
                {
                    continue;
                }

                // XAUTOCLAIM increments the delivery count; read it to know which attempt this is.
                var pending = await Db.StreamPendingMessagesAsync(stream, options.AppId, 1, ConsumerName, entry.Id, entry.Id).ConfigureAwait(false);
                var attempt = pending.Length > 0 ? pending[0].DeliveryCount : options.MaxDeliveries + 1;
                await HandleAsync(topic, stream, entry, attempt, stoppingToken).ConfigureAwait(false);
            }

            // Entries deleted from the stream (trimmed) while pending cannot be delivered: acknowledge them.
            if (claimed.DeletedIds.Length > 0)
            {
                await Db.StreamAcknowledgeAsync(stream, options.AppId, claimed.DeletedIds).ConfigureAwait(false);
            }

            start = claimed.NextStartId;
        }
        while (start != "0-0" && !stoppingToken.IsCancellationRequested);
    }

    private async Task HandleAsync(string topic, RedisKey stream, StreamEntry entry, int attempt, CancellationToken stoppingToken)
    {
        EventEnvelope envelope;
        try
        {
            var raw = entry[RedisStreamsEventBus.EnvelopeField];
            if (raw.IsNull)
            {
                throw new PoisonEventException($"Stream entry {entry.Id} has no '{RedisStreamsEventBus.EnvelopeField}' field.");
            }

            envelope = EventEnvelope.Parse((byte[])raw!);
        }
        catch (PoisonEventException ex)
        {
            await DeadLetterAsync(topic, stream, entry, ex.Message, attempt).ConfigureAwait(false);
            return;
        }

        var outcome = attempt > options.MaxDeliveries
            ? await dispatcher.InspectAsync(envelope, stoppingToken).ConfigureAwait(false)
            : await dispatcher.DispatchAsync(envelope, attempt, stoppingToken).ConfigureAwait(false);
        if (attempt > options.MaxDeliveries && outcome == DispatchOutcome.Retry)
        {
            await DeadLetterAsync(topic, stream, entry, $"not handled after {options.MaxDeliveries} deliveries", attempt).ConfigureAwait(false);
            return;
        }

        switch (outcome)
        {
            case DispatchOutcome.InProgress:
                // Another delivery is running the handler under its lease and acknowledges when done. This
                // delivery ran nothing, so take back the count XAUTOCLAIM added: else a holder that dies would
                // leave, once its lease expires, a message already past MaxDeliveries and dead-lettered unrun.
                await Db.ExecuteAsync("XCLAIM", stream, options.AppId, ConsumerName, 0, entry.Id, "RETRYCOUNT", Math.Max(attempt - 1, 0), "JUSTID").ConfigureAwait(false);
                break;
            case DispatchOutcome.Success:
                await Db.StreamAcknowledgeAsync(stream, options.AppId, entry.Id).ConfigureAwait(false);
                break;
            case DispatchOutcome.Drop:
                await DeadLetterAsync(topic, stream, entry, "dropped by handler", attempt).ConfigureAwait(false);
                break;
            case DispatchOutcome.Retry:
                if (attempt >= options.MaxDeliveries)
                {
                    await DeadLetterAsync(topic, stream, entry, $"handler failed {attempt} deliveries", attempt).ConfigureAwait(false);
                }

                // Otherwise leave it pending: the claim loop delivers it again after ClaimIdleTime.
                break;
        }
    }

    private async Task DeadLetterAsync(string topic, RedisKey stream, StreamEntry entry, string reason, int attempt)
    {
        var fields = entry.Values
            .Append(new NameValueEntry("deadletter_reason", reason))
            .Append(new NameValueEntry("deadletter_group", options.AppId))
            .Append(new NameValueEntry("deadletter_deliveries", attempt))
            .Append(new NameValueEntry("source_id", entry.Id))
            .ToArray();
        // Exact trimming: dead letters are few, and a cap that is only approximate would not hold for small caps.
        var maxLength = options.Redis.DeadLetterMaxLength > 0 ? options.Redis.DeadLetterMaxLength : (int?)null;
        await Db.StreamAddAsync(RedisStreamsEventBus.DeadLetterKey(options, topic), fields, maxLength: maxLength, useApproximateMaxLength: false).ConfigureAwait(false);
        await Db.StreamAcknowledgeAsync(stream, options.AppId, entry.Id).ConfigureAwait(false);
        LogDeadLettered(entry.Id.ToString(), topic, reason);
    }

    private static async Task DelayQuietly(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Error while consuming {Topic}; the message stays pending and is delivered again")]
    private partial void LogRedisError(Exception ex, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer group {Group} of {Topic} is gone (NOGROUP): creating it again")]
    private partial void LogGroupRecreated(string topic, string group);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dead-lettered stream entry {EntryId} of {Topic}: {Reason}")]
    private partial void LogDeadLettered(string entryId, string topic, string reason);
}
