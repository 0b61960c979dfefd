using Alpaca.Messaging;
using Alpaca.Messaging.InProcess;
using Alpaca.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Platform.Tests.Messaging;

/// <summary>The in-process transport of the embedded default, shared by hosts in one process.</summary>
public sealed class InProcessTransportTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Alpaca:Messaging:Transport"] = "inprocess",
        ["Alpaca:Messaging:MaxDeliveries"] = "3",
    };

    [Fact]
    public async Task Hosts_sharing_a_broker_receive_each_others_events_and_failed_deliveries_are_retried()
    {
        var broker = new InProcessBroker();
        var (publisher, _) = await MessagingHost.StartAsync("generator", Path.Combine(_dir.Path, "g"), Settings(), s => s.AddSingleton(broker));
        var (consumer, probe) = await MessagingHost.StartAsync("trainer", Path.Combine(_dir.Path, "t"), Settings(), s => s.AddSingleton(broker));
        var failures = 0;
        probe.Behaviour = ctx => ctx.Envelope.Data.GetProperty("runId").GetString() == "flaky" && Interlocked.Increment(ref failures) <= 1
            ? throw new InvalidOperationException("transient")
            : Task.CompletedTask;

        var bus = publisher.Services.GetRequiredService<IEventBus>();
        var ok = await bus.PublishAsync(MessagingHost.Event("ok"));
        var flaky = await bus.PublishAsync(MessagingHost.Event("flaky"));
        await probe.WaitForAsync(p => p.Handled.Count == 2, TimeSpan.FromSeconds(10));

        Assert.Contains(probe.Handled, h => h.EventId == ok.Id && h.Attempt == 1);
        Assert.Contains(probe.Handled, h => h.EventId == flaky.Id && h.Attempt == 2);
        Assert.Empty(broker.DeadLetters);
        await publisher.StopAsync();
        await consumer.StopAsync();
        publisher.Dispose();
        consumer.Dispose();
    }

    [Fact]
    public async Task An_event_failing_every_delivery_is_dead_lettered_after_max_deliveries()
    {
        var broker = new InProcessBroker();
        var (host, probe) = await MessagingHost.StartAsync("trainer", Path.Combine(_dir.Path, "p"), Settings(), s => s.AddSingleton(broker));
        probe.Behaviour = _ => throw new InvalidOperationException("always");
        var sent = await host.Services.GetRequiredService<IEventBus>().PublishAsync(MessagingHost.Event("bad"));
        await probe.WaitForAsync(_ => broker.DeadLetters.Count == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(3, probe.Attempts[sent.Id]);
        Assert.Equal("trainer", broker.DeadLetters.Single().Group);
        await host.StopAsync();
        host.Dispose();
    }

    public void Dispose() => _dir.Dispose();
}
