using Alpaca.Messaging;
using Alpaca.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Alpaca.Platform.Tests.Messaging;

/// <summary>The Redis Streams transport against a real redis-server on a free loopback port.</summary>
public sealed class RedisStreamsTransportTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _prefix = $"t{Guid.NewGuid():N}:";
    private readonly List<IHost> _hosts = [];

    private Dictionary<string, string?> Settings(int maxDeliveries = 5) => new()
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

    private async Task<(IHost Host, Probe Probe)> StartAsync(string appId, int maxDeliveries = 5)
    {
        // Each host keeps its own processed-event records, like separate pods would in their own state.
        var result = await MessagingHost.StartAsync(appId, Path.Combine(_dir.Path, Guid.NewGuid().ToString("N")), Settings(maxDeliveries));
        _hosts.Add(result.Host);
        return result;
    }

    private static async Task WaitForGroupAsync(IDatabase db, string stream, string group)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await db.KeyExistsAsync(stream) && (await db.StreamGroupInfoAsync(stream)).Any(g => g.Name == group))
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Consumer group {group} on {stream} was not created.");
    }

    [Fact]
    public async Task Published_events_reach_every_subscribing_service_once()
    {
        var (a, probeA) = await StartAsync("svc-a");
        var (b, probeB) = await StartAsync("svc-b");
        var db = a.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var stream = _prefix + EventTopics.DatasetPublished;
        await WaitForGroupAsync(db, stream, "svc-a");
        await WaitForGroupAsync(db, stream, "svc-b");

        var bus = a.Services.GetRequiredService<IEventBus>();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await bus.PublishAsync(MessagingHost.Event($"run-{i}"))).Id);
        }

        await probeA.WaitForAsync(p => p.Handled.Count >= 5, TimeSpan.FromSeconds(10));
        await probeB.WaitForAsync(p => p.Handled.Count >= 5, TimeSpan.FromSeconds(10));
        Assert.Equal(ids.Order(), probeA.Handled.Select(h => h.EventId).Order());
        Assert.Equal(ids.Order(), probeB.Handled.Select(h => h.EventId).Order());
        Assert.Equal(["run-0", "run-1", "run-2", "run-3", "run-4"], probeA.Handled.Select(h => h.RunId));
    }

    [Fact]
    public async Task Replicas_of_one_service_compete_and_each_event_is_handled_once()
    {
        var (a, probeA) = await StartAsync("svc-c");
        var (_, probeB) = await StartAsync("svc-c");
        probeA.Behaviour = _ => Task.Delay(10);
        probeB.Behaviour = _ => Task.Delay(10);
        var db = a.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        await WaitForGroupAsync(db, _prefix + EventTopics.DatasetPublished, "svc-c");

        var bus = a.Services.GetRequiredService<IEventBus>();
        var ids = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add((await bus.PublishAsync(MessagingHost.Event($"r{i}"))).Id);
        }

        await probeA.WaitForAsync(_ => probeA.Handled.Count + probeB.Handled.Count >= 40, TimeSpan.FromSeconds(15));
        await Task.Delay(300); // any duplicate delivery would show up now
        var all = probeA.Handled.Concat(probeB.Handled).Select(h => h.EventId).ToList();
        Assert.Equal(ids.Order(), all.Order());
        Assert.NotEmpty(probeA.Handled);
        Assert.NotEmpty(probeB.Handled);
    }

    [Fact]
    public async Task A_message_of_a_consumer_that_dies_before_ack_is_redelivered_to_another()
    {
        // A consumer of group svc-d reads a message and dies before acknowledging it: in Redis that
        // leaves the entry pending on the dead consumer, which is exactly what we set up here.
        var mux = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var db = mux.GetDatabase();
        var stream = _prefix + EventTopics.DatasetPublished;
        await db.StreamCreateConsumerGroupAsync(stream, "svc-d", StreamPosition.Beginning, createStream: true);
        var publisherOptions = new MessagingOptions { AppId = "publisher", Redis = { StreamPrefix = _prefix } };
        var sent = await new Alpaca.Messaging.Redis.RedisStreamsEventBus(mux, publisherOptions).PublishAsync(MessagingHost.Event("orphan"));
        var taken = await db.StreamReadGroupAsync(stream, "svc-d", "dead-pod", StreamPosition.NewMessages, 10);
        Assert.Single(taken);
        Assert.Equal(1, (await db.StreamPendingAsync(stream, "svc-d")).PendingMessageCount);

        var (_, probe) = await StartAsync("svc-d");
        await probe.WaitForAsync(p => p.Handled.Any(h => h.EventId == sent.Id), TimeSpan.FromSeconds(10));
        var delivery = probe.Handled.Single(h => h.EventId == sent.Id);
        Assert.Equal(2, delivery.Attempt);
        await probe.WaitForAsync(_ => db.StreamPending(stream, "svc-d").PendingMessageCount == 0, TimeSpan.FromSeconds(5));
        await mux.DisposeAsync();
    }

    [Fact]
    public async Task A_poison_message_lands_in_the_dead_letter_stream_after_max_deliveries()
    {
        var (a, probe) = await StartAsync("svc-e", maxDeliveries: 3);
        probe.Behaviour = _ => throw new InvalidOperationException("always fails");
        var db = a.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var stream = _prefix + EventTopics.DatasetPublished;
        await WaitForGroupAsync(db, stream, "svc-e");

        var sent = await a.Services.GetRequiredService<IEventBus>().PublishAsync(MessagingHost.Event("poison"));
        var deadLetter = stream + ":deadletter";
        await probe.WaitForAsync(_ => db.StreamLength(deadLetter) == 1, TimeSpan.FromSeconds(15));

        Assert.Equal(3, probe.Attempts[sent.Id]);
        var entry = (await db.StreamRangeAsync(deadLetter)).Single();
        Assert.Equal("svc-e", (string?)entry["deadletter_group"]);
        Assert.Contains(sent.Id, (string?)entry["envelope"], StringComparison.Ordinal);
        Assert.Equal(0, (await db.StreamPendingAsync(stream, "svc-e")).PendingMessageCount);
        Assert.Empty(probe.Handled);
    }

    [Fact]
    public async Task A_handler_rejecting_an_event_for_good_dead_letters_it_at_once()
    {
        var (a, probe) = await StartAsync("svc-f");
        probe.Behaviour = _ => throw new PoisonEventException("this dataset can never be used");
        var db = a.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var stream = _prefix + EventTopics.DatasetPublished;
        await WaitForGroupAsync(db, stream, "svc-f");

        var sent = await a.Services.GetRequiredService<IEventBus>().PublishAsync(MessagingHost.Event("reject"));
        await probe.WaitForAsync(_ => db.StreamLength(stream + ":deadletter") == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, probe.Attempts[sent.Id]);
    }

    [Fact]
    public async Task A_redelivered_event_with_the_same_id_is_handled_once()
    {
        var (a, probe) = await StartAsync("svc-g");
        var db = a.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        await WaitForGroupAsync(db, _prefix + EventTopics.DatasetPublished, "svc-g");
        var bus = a.Services.GetRequiredService<IEventBus>();

        await bus.PublishAsync(MessagingHost.Event("same"), eventId: "evt-42");
        await bus.PublishAsync(MessagingHost.Event("same"), eventId: "evt-42");
        await bus.PublishAsync(MessagingHost.Event("other"), eventId: "evt-43");
        await probe.WaitForAsync(p => p.Handled.Any(h => h.EventId == "evt-43"), TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.Equal(1, probe.Handled.Count(h => h.EventId == "evt-42"));
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.StopAsync().GetAwaiter().GetResult();
            host.Dispose();
        }

        _dir.Dispose();
    }
}
