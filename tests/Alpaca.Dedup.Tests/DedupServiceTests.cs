using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.Dedup.Rouge;
using Alpaca.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Alpaca.Dedup.Tests;

/// <summary>The dedup service over real gRPC with its pools in a real redis-server.</summary>
public sealed class DedupServiceTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly string _prefix = $"t{Guid.NewGuid():N}:";

    private async Task<(WebApplication App, DedupService.DedupServiceClient Client, GrpcChannel Channel)> StartAsync()
    {
        var grpcPort = FreePort.Next();
        var app = DedupModule.Instance.Build(new Dictionary<string, string?>
        {
            ["Alpaca:Service:GrpcPort"] = grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // A service on its own, called directly: these tests are not about authentication (tests/Alpaca.Platform.Tests/Auth are).
            ["Alpaca:Auth:Enabled"] = "false",
            ["Alpaca:Service:HttpPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Alpaca:Redis"] = redis.Address,
            ["Alpaca:State:Store"] = "redis",
            ["Alpaca:State:Prefix"] = _prefix,
            ["Alpaca:Messaging:Transport"] = "inprocess",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await app.StartAsync();
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        return (app, new DedupService.DedupServiceClient(channel), channel);
    }

    private static CreateNamespaceRequest Create(string name)
    {
        var request = new CreateNamespaceRequest { Namespace = name };
        request.SeedInstructions.AddRange(GoldenTests.Seeds());
        return request;
    }

    [Fact]
    public async Task Decisions_survive_a_restart_of_the_service_mid_stream()
    {
        var rows = GoldenTests.Lines("dedup_stress_public.jsonl").ToList();
        var decisions = new List<Decision>();
        var (app, client, channel) = await StartAsync();
        Assert.True((await client.CreateNamespaceAsync(Create("stress"))).Created);
        using (var call = client.StreamCandidates())
        {
            foreach (var row in rows.Take(900))
            {
                await call.RequestStream.WriteAsync(new StreamCandidatesRequest { Namespace = "stress", Candidate = new Candidate { Id = "c" + row.GetProperty("index").GetInt32(), Instruction = row.GetProperty("instruction").GetString() } });
                Assert.True(await call.ResponseStream.MoveNext());
                decisions.Add(call.ResponseStream.Current.Decision);
            }

            await call.RequestStream.CompleteAsync();
        }

        await app.StopAsync();
        await app.DisposeAsync();
        channel.Dispose();

        (app, client, channel) = await StartAsync();
        var request = new SubmitCandidatesRequest { Namespace = "stress" };
        request.Candidates.AddRange(rows.Skip(850).Select(r => new Candidate { Id = "c" + r.GetProperty("index").GetInt32(), Instruction = r.GetProperty("instruction").GetString() }));
        var response = await client.SubmitCandidatesAsync(request);
        Assert.All(response.Decisions.Take(50), d => Assert.True(d.Replayed)); // 850..899 were decided before the restart
        decisions.AddRange(response.Decisions.Skip(50));

        Assert.Equal(rows.Count, decisions.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.True(rows[i].GetProperty("kept").GetBoolean() == decisions[i].Kept, $"candidate {i}");
            Assert.Equal(rows[i].GetProperty("max_f_exact").GetDouble(), decisions[i].MaxF);
            Assert.Equal(rows[i].GetProperty("most_similar").GetInt32(), decisions[i].MostSimilarPosition);
        }

        var stats = (await client.GetNamespaceAsync(new GetNamespaceRequest { Namespace = "stress" })).Stats;
        Assert.Equal(175 + rows.Count - 361, stats.PoolSize);
        Assert.Equal(361, stats.Rejected);
        await app.StopAsync();
        await app.DisposeAsync();
        channel.Dispose();
    }

    [Fact]
    public async Task A_duplicate_delivery_is_answered_from_its_first_decision_and_never_inserted_twice()
    {
        var (app, client, channel) = await StartAsync();
        await client.CreateNamespaceAsync(Create("dupes"));
        var request = new SubmitCandidatesRequest { Namespace = "dupes" };
        request.Candidates.Add(new Candidate { Id = "a", Instruction = "Describe the life cycle of a monarch butterfly in detail." });
        var first = (await client.SubmitCandidatesAsync(request)).Decisions.Single();
        var again = await client.SubmitCandidatesAsync(request);
        Assert.True(first.Kept);
        Assert.False(first.Replayed);
        Assert.True(again.Decisions.Single().Replayed);
        Assert.Equal(first.PoolPosition, again.Decisions.Single().PoolPosition);
        Assert.Equal(176, again.Stats.PoolSize);

        // The same text under a new id is a real duplicate: F = 1.0 against the kept one, rejected.
        request.Candidates[0].Id = "b";
        var copy = (await client.SubmitCandidatesAsync(request)).Decisions.Single();
        Assert.False(copy.Kept);
        Assert.Equal(1.0, copy.MaxF);
        Assert.Equal(175, copy.MostSimilarPosition);

        var missingId = await Assert.ThrowsAsync<RpcException>(() => client.SubmitCandidatesAsync(new SubmitCandidatesRequest { Namespace = "dupes", Candidates = { new Candidate { Instruction = "x" } } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, missingId.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.GetNamespaceAsync(new GetNamespaceRequest { Namespace = "nope" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        await app.StopAsync();
        await app.DisposeAsync();
        channel.Dispose();
    }

    [Fact]
    public async Task Concurrent_submitters_produce_a_pool_equal_to_some_serial_order()
    {
        var (app, client, channel) = await StartAsync();
        await client.CreateNamespaceAsync(Create("race"));
        var rows = GoldenTests.Lines("dedup_stress_public.jsonl").Take(600).Select(r => r.GetProperty("instruction").GetString()!).ToList();
        async Task<List<(string Text, Decision Decision)>> Submitter(int parity)
        {
            var results = new List<(string, Decision)>();
            foreach (var chunk in rows.Select((t, i) => (t, i)).Where(x => x.i % 2 == parity).Chunk(7))
            {
                var request = new SubmitCandidatesRequest { Namespace = "race" };
                request.Candidates.AddRange(chunk.Select(x => new Candidate { Id = "r" + x.i, Instruction = x.t }));
                var response = await client.SubmitCandidatesAsync(request);
                results.AddRange(chunk.Zip(response.Decisions).Select(z => (z.First.t, z.Second)));
            }

            return results;
        }

        var all = (await Task.WhenAll(Submitter(0), Submitter(1))).SelectMany(r => r).ToList();
        var pool = (await client.ListPoolAsync(new ListPoolRequest { Namespace = "race", Limit = 10_000 })).Entries.Select(e => e.Instruction).ToList();
        var kept = all.Where(a => a.Decision.Kept).OrderBy(a => a.Decision.PoolPosition).ToList();
        Assert.Equal(pool.Skip(175), kept.Select(k => k.Text));
        Assert.Equal(Enumerable.Range(175, kept.Count).Select(i => (long)i), kept.Select(k => k.Decision.PoolPosition));

        // Serial order "kept in pool order, then the rejected" yields exactly this pool iff every kept
        // entry is within 0.7 of all earlier pool entries and every rejected one exceeds 0.7 somewhere.
        for (var i = 175; i < pool.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                Assert.True(RougeScore.Score(pool[i], pool[j]).FMeasure <= 0.7, $"pool {i} vs {j}");
            }
        }

        foreach (var (text, decision) in all.Where(a => !a.Decision.Kept))
        {
            Assert.Contains(pool, p => RougeScore.Score(text, p).FMeasure > 0.7);
        }

        await app.StopAsync();
        await app.DisposeAsync();
        channel.Dispose();
    }
}
