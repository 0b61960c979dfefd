using System.Collections.Concurrent;
using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.Messaging;
using Alpaca.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Dedup.Tests;

/// <summary>The dedup service's pub/sub side: candidates in, one decision event per candidate out.</summary>
public sealed class DedupEventsTests
{
    public sealed class Decided
    {
        public ConcurrentDictionary<string, InstructionDecided> ById { get; } = new();
    }

    public sealed class DecidedRecorder(Decided decided) : IEventHandler<InstructionDecided>
    {
        public Task HandleAsync(InstructionDecided @event, EventContext context, CancellationToken cancellationToken)
        {
            decided.ById[context.Envelope.Id] = @event;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Candidates_produced_events_are_decided_and_redelivery_publishes_the_same_decision()
    {
        using var dir = new TempDir();
        var decided = new Decided();
        await using var app = DedupModule.Instance.Build(
            new Dictionary<string, string?>
            {
                ["Alpaca:Service:GrpcPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                // A service on its own, called directly: these tests are not about authentication (tests/Alpaca.Platform.Tests/Auth are).
                ["Alpaca:Auth:Enabled"] = "false",
                ["Alpaca:Service:HttpPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Alpaca:State:Store"] = "local",
                ["Alpaca:State:Path"] = dir.Path,
                ["Alpaca:Messaging:Transport"] = "inprocess",
            },
            services =>
            {
                services.AddSingleton(decided);
                services.AddEventHandler<InstructionDecided, DecidedRecorder>();
            });
        await app.StartAsync();
        var namespaces = app.Services.GetRequiredService<Api.Namespaces.DedupNamespaces>();
        await namespaces.CreateAsync("run-1", GoldenTests.Seeds(), 0.7, default);

        var produced = new CandidatesProduced { RunId = "run-1", Namespace = "run-1", Round = 1 };
        produced.Candidates.Add(new CandidateRecord { CandidateId = "c1", Instruction = "Describe the water cycle to a ten-year-old.", Output = "..." });
        produced.Candidates.Add(new CandidateRecord { CandidateId = "c2", Instruction = "Describe the water cycle to a ten-year-old.", Output = "..." });
        var bus = app.Services.GetRequiredService<IEventBus>();
        await bus.PublishAsync(produced, "round-1");
        await bus.PublishAsync(produced, "round-1-redelivered");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (decided.ById.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        await Task.Delay(200);
        Assert.Equal(["run-1/c1", "run-1/c2"], decided.ById.Keys.Order());
        Assert.True(decided.ById["run-1/c1"].Kept);
        Assert.False(decided.ById["run-1/c2"].Kept);
        Assert.Equal(1.0, decided.ById["run-1/c2"].MaxF);
        Assert.Equal(175, decided.ById["run-1/c2"].MostSimilarPosition);
        Assert.Equal(176, (await namespaces.GetAsync("run-1", default))!.Pool.Count);
        await app.StopAsync();
    }
}
