using Alpaca.Messaging;
using Alpaca.State;
using Alpaca.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Alpaca.Platform.Tests.Messaging;

/// <summary>
/// Faults of the Redis Streams transport against a real redis-server of this class's own (these tests
/// flush, delete and restart it): lost consumer groups, slow handlers, idempotency records that expire,
/// ids that used to share a key, and a capped dead-letter stream.
/// </summary>
public sealed class RedisStreamsFaultTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _prefix = $"t{Guid.NewGuid():N}:";
    private readonly List<IHost> _hosts = [];
    private readonly List<IDisposable> _disposables = [];

    private string Stream => _prefix + EventTopics.DatasetPublished;

    private Dictionary<string, string?> Settings(int maxDeliveries, Dictionary<string, string?>? extra) =>
        new(extra ?? [])
        {
            ["Alpaca:Redis"] = redis.Address,
            ["Alpaca:Messaging:Transport"] = "redis",
            ["Alpaca:Messaging:MaxDeliveries"] = maxDeliveries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Alpaca:Messaging:Redis:StreamPrefix"] = _prefix,
            ["Alpaca:Messaging:Redis:ClaimIdleTime"] = "00:00:00.400",
            ["Alpaca:Messaging:Redis:ClaimInterval"] = "00:00:00.150",
            ["Alpaca:Messaging:Redis:PollInterval"] = "00:00:00.020",
            ["Alpaca:Messaging:Redis:BatchSize"] = "1",
        };

    private async Task<(IHost Host, Probe Probe)> StartAsync(string appId, int maxDeliveries = 5, Dictionary<string, string?>? extra = null, IStateStore? sharedState = null)
    {
        var (host, probe) = await MessagingHost.StartAsync(
            appId,
            Path.Combine(_dir.Path, Guid.NewGuid().ToString("N")),
            Settings(maxDeliveries, extra),
            sharedState is null ? null : services => services.AddSingleton(sharedState));
        _hosts.Add(host);
        await WaitForGroupAsync(host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase(), appId);
        return (host, probe);
    }

    private async Task WaitForGroupAsync(IDatabase db, string group)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await db.KeyExistsAsync(Stream) && (await db.StreamGroupInfoAsync(Stream)).Any(g => g.Name == group))
                {
                    return;
                }
            }
            catch (RedisException)
            {
                // reconnecting after a restart
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Consumer group {group} on {Stream} was not (re)created.");
    }

    /// <summary>Publishes, retrying while the connection comes back after a restart.</summary>
    private static async Task<List<string>> PublishAsync(IEventBus bus, string prefix, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            for (var tries = 0; ; tries++)
            {
                try
                {
                    ids.Add((await bus.PublishAsync(MessagingHost.Event($"{prefix}-{i}"))).Id);
                    break;
                }
                catch (RedisException) when (tries < 100)
                {
                    await Task.Delay(100);
                }
            }
        }

        return ids;
    }

    private async Task<ConnectionMultiplexer> AdminAsync()
    {
        var mux = await ConnectionMultiplexer.ConnectAsync(redis.Address + ",allowAdmin=true");
        _disposables.Add(mux);
        return mux;
    }

    [Fact]
    public async Task A_stream_deleted_under_its_consumers_gets_its_group_back_and_every_later_event_is_handled()
    {
        var (a, probe) = await StartAsync("svc-del");
        var bus = a.Services.GetRequiredService<IEventBus>();
        var before = await PublishAsync(bus, "before", 3);
        await probe.WaitForAsync(p => p.Handled.Count >= 3, TimeSpan.FromSeconds(15));

        var db = (await AdminAsync()).GetDatabase();
        Assert.True(await db.KeyDeleteAsync(Stream));
        var after = await PublishAsync(bus, "after", 3); // XADD recreates the stream, without any group

        await probe.WaitForAsync(p => p.Handled.Count >= 6, TimeSpan.FromSeconds(20));
        Assert.Equal(before.Concat(after).Order(), probe.Handled.Select(h => h.EventId).Order());
        Assert.Contains(await db.StreamGroupInfoAsync(Stream), g => g.Name == "svc-del");
    }

    [Fact]
    public async Task After_a_flushall_the_consumers_recreate_their_groups_and_carry_on()
    {
        var (a, probeA) = await StartAsync("svc-flush-a");
        var (_, probeB) = await StartAsync("svc-flush-b");
        var bus = a.Services.GetRequiredService<IEventBus>();
        await PublishAsync(bus, "before", 2);
        await probeA.WaitForAsync(p => p.Handled.Count >= 2, TimeSpan.FromSeconds(15));
        await probeB.WaitForAsync(p => p.Handled.Count >= 2, TimeSpan.FromSeconds(15));

        var admin = await AdminAsync();
        await admin.GetServer(admin.GetEndPoints()[0]).FlushAllDatabasesAsync();
        var after = await PublishAsync(bus, "after", 4);

        await probeA.WaitForAsync(p => p.Handled.Count >= 6, TimeSpan.FromSeconds(20));
        await probeB.WaitForAsync(p => p.Handled.Count >= 6, TimeSpan.FromSeconds(20));
        Assert.Equal(after.Order(), probeA.Handled.Skip(2).Select(h => h.EventId).Order());
        Assert.Equal(after.Order(), probeB.Handled.Skip(2).Select(h => h.EventId).Order());
    }

    [Fact]
    public async Task After_redis_restarts_empty_the_consumers_reconnect_recreate_their_group_and_carry_on()
    {
        var (a, probe) = await StartAsync("svc-restart");
        var bus = a.Services.GetRequiredService<IEventBus>();
        await PublishAsync(bus, "before", 2);
        await probe.WaitForAsync(p => p.Handled.Count >= 2, TimeSpan.FromSeconds(15));

        redis.Restart(); // no persistence: the stream and its group are gone
        var after = await PublishAsync(bus, "after", 3);

        await probe.WaitForAsync(p => p.Handled.Count >= 5, TimeSpan.FromSeconds(30));
        Assert.Equal(after.Order(), probe.Handled.Skip(2).Select(h => h.EventId).Order());
    }

    [Fact]
    public async Task A_handler_slower_than_the_claim_time_runs_once_across_replicas_and_is_not_dead_lettered()
    {
        // Both replicas share one state store (Redis), as pods of one service do. The processing lease's TTL is
        // half the handler's time: only its heartbeat (renewed every TTL/3) keeps the second run out. Not shorter:
        // with 600 ms a stall of 400 ms (GC, or a CI machine running every test assembly on 2 cores) let the
        // lease lapse, and the second run was the machine's fault, not the dispatcher's.
        var mux = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        _disposables.Add(mux);
        var state = new RedisStateStore(mux, _prefix + "state:");
        var extra = new Dictionary<string, string?>
        {
            ["Alpaca:Messaging:ProcessingLease"] = "00:00:10",
            ["Alpaca:Messaging:ProcessingLeases:ProbeHandler"] = "00:00:01.500",
        };
        var (a, probeA) = await StartAsync("svc-slow", maxDeliveries: 3, extra, state);
        var (_, probeB) = await StartAsync("svc-slow", maxDeliveries: 3, extra, state);
        probeA.Behaviour = _ => Task.Delay(TimeSpan.FromSeconds(3)); // ~7 claim times: re-claimed past MaxDeliveries
        probeB.Behaviour = probeA.Behaviour;

        var sent = await a.Services.GetRequiredService<IEventBus>().PublishAsync(MessagingHost.Event("slow"));
        await probeA.WaitForAsync(_ => probeA.Handled.Count + probeB.Handled.Count >= 1, TimeSpan.FromSeconds(30));
        var db = mux.GetDatabase();
        await probeA.WaitForAsync(_ => db.StreamPending(Stream, "svc-slow").PendingMessageCount == 0, TimeSpan.FromSeconds(15));
        await Task.Delay(1000); // a second run would show up now

        Assert.Equal(1, probeA.Attempts.GetValueOrDefault(sent.Id) + probeB.Attempts.GetValueOrDefault(sent.Id));
        Assert.Equal(0, await db.StreamLengthAsync(Stream + ":deadletter"));
    }

    [Fact]
    public async Task A_message_whose_handler_holder_died_runs_once_its_lease_expires_instead_of_being_dead_lettered()
    {
        // A pod died mid-handler holding the processing lease; its message keeps being re-claimed meanwhile.
        var mux = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        _disposables.Add(mux);
        var state = new RedisStateStore(mux, _prefix + "state:");
        var leaseKey = StateKey.Join("messaging", "processing", "svc-orphan", nameof(ProbeHandler), EventIdKey.Encode("evt-orphan"));
        Assert.NotNull(await state.TryAcquireLeaseAsync(leaseKey, "dead-pod", TimeSpan.FromSeconds(3)));
        var (a, probe) = await StartAsync("svc-orphan", maxDeliveries: 2, sharedState: state);

        await a.Services.GetRequiredService<IEventBus>().PublishAsync(MessagingHost.Event("orphan"), eventId: "evt-orphan");
        await probe.WaitForAsync(p => p.Handled.Count == 1, TimeSpan.FromSeconds(30));
        var db = mux.GetDatabase();
        await probe.WaitForAsync(_ => db.StreamPending(Stream, "svc-orphan").PendingMessageCount == 0, TimeSpan.FromSeconds(15));
        Assert.Equal(1, probe.Attempts["evt-orphan"]);
        Assert.Equal(0, await db.StreamLengthAsync(Stream + ":deadletter"));
    }

    [Fact]
    public async Task Event_ids_that_the_old_key_mapping_merged_are_each_handled()
    {
        var (a, probe) = await StartAsync("svc-ids");
        var bus = a.Services.GetRequiredService<IEventBus>();
        string[] ids = ["a_b/c", "a/b_c", "a_b_c", "x y", "x_20y"];
        foreach (var id in ids)
        {
            await bus.PublishAsync(MessagingHost.Event(id), eventId: id);
        }

        await probe.WaitForAsync(p => p.Handled.Count >= ids.Length, TimeSpan.FromSeconds(15));
        Assert.Equal(ids.Order(), probe.Handled.Select(h => h.EventId).Order());
    }

    [Fact]
    public async Task A_processed_record_expires_after_its_retention_and_a_later_redelivery_runs_again()
    {
        // Retention 3 s: the redelivery below must reach the handler within it. With 1 s a consumer that stalled
        // for a second (a loaded CI machine) ran it again and failed a correct dispatcher.
        var (a, probe) = await StartAsync("svc-ttl", extra: new() { ["Alpaca:Messaging:ProcessedRetention"] = "00:00:03" });
        var bus = a.Services.GetRequiredService<IEventBus>();
        await bus.PublishAsync(MessagingHost.Event("r"), eventId: "evt-ttl");
        await bus.PublishAsync(MessagingHost.Event("r"), eventId: "evt-ttl"); // within retention: skipped
        await bus.PublishAsync(MessagingHost.Event("marker"), eventId: "evt-marker");
        await probe.WaitForAsync(p => p.Handled.Any(h => h.EventId == "evt-marker"), TimeSpan.FromSeconds(15));
        Assert.Equal(1, probe.Handled.Count(h => h.EventId == "evt-ttl"));

        // Once the processed record has expired (waited for, not slept on), a redelivery runs the handler again
        // (a wrong key here would not wait, and the redelivery would then be skipped: the last wait times out).
        var state = a.Services.GetRequiredService<IStateStore>();
        var processed = StateKey.Join("messaging", "processed", "svc-ttl", nameof(ProbeHandler), EventIdKey.Encode("evt-ttl"));
        await probe.WaitForAsync(_ => state.GetAsync(processed).GetAwaiter().GetResult() is null, TimeSpan.FromSeconds(15));
        await bus.PublishAsync(MessagingHost.Event("r"), eventId: "evt-ttl");
        await probe.WaitForAsync(p => p.Handled.Count(h => h.EventId == "evt-ttl") == 2, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task The_dead_letter_stream_keeps_at_most_its_cap_dropping_the_oldest()
    {
        var (a, probe) = await StartAsync("svc-cap", extra: new() { ["Alpaca:Messaging:Redis:DeadLetterMaxLength"] = "2" });
        probe.Behaviour = _ => throw new PoisonEventException("never usable");
        var bus = a.Services.GetRequiredService<IEventBus>();
        var sent = await PublishAsync(bus, "poison", 4);
        var db = a.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        await probe.WaitForAsync(p => p.Attempts.Count == 4 && db.StreamPending(Stream, "svc-cap").PendingMessageCount == 0, TimeSpan.FromSeconds(15));

        var deadLetters = await db.StreamRangeAsync(Stream + ":deadletter");
        Assert.Equal(2, deadLetters.Length);
        Assert.Contains(sent[3], (string?)deadLetters[^1]["envelope"], StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.StopAsync().GetAwaiter().GetResult();
            host.Dispose();
        }

        foreach (var d in _disposables)
        {
            d.Dispose();
        }

        _dir.Dispose();
    }
}
