using System.Globalization;
using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;

namespace Alpaca.Dedup.Tests;

/// <summary>
/// The dedup service's size limits (Alpaca:Dedup:Limits) over a real gRPC channel: a batch, a seed list, an id or a
/// text over its limit is INVALID_ARGUMENT naming the field and the limit, before any scoring; at the limit, served.
/// </summary>
public sealed class DedupLimitsTests
{
    private const int Batch = 5;
    private const int Seeds = 4;
    private const int IdChars = 10;
    private const int TextChars = 200;

    private static async Task<T> WithServiceAsync<T>(Func<DedupService.DedupServiceClient, Task<T>> run)
    {
        using var state = new TempDir("alpaca-dedup-limits");
        var grpcPort = FreePort.Next();
        var app = DedupModule.Instance.Build(new Dictionary<string, string?>
        {
            ["Alpaca:Service:GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            // A service on its own, called directly: these tests are not about authentication (tests/Alpaca.Platform.Tests/Auth are).
            ["Alpaca:Auth:Enabled"] = "false",
            ["Alpaca:Service:HttpPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Alpaca:State:Store"] = "local",
            ["Alpaca:State:Path"] = state.Path,
            ["Alpaca:Messaging:Transport"] = "inprocess",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Alpaca:Dedup:Limits:MaxBatchCandidates"] = $"{Batch}",
            ["Alpaca:Dedup:Limits:MaxSeedInstructions"] = $"{Seeds}",
            ["Alpaca:Dedup:Limits:MaxCandidateIdChars"] = $"{IdChars}",
            ["Alpaca:Dedup:Limits:MaxInstructionChars"] = $"{TextChars}",
        });
        await app.StartAsync();
        try
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
            return await run(new DedupService.DedupServiceClient(channel));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static CreateNamespaceRequest Create(int seeds)
    {
        var request = new CreateNamespaceRequest { Namespace = "limits" };
        request.SeedInstructions.AddRange(Enumerable.Range(0, seeds).Select(i => $"Seed instruction number {i} about topic {i * 7}."));
        return request;
    }

    private static Candidate[] Candidates(int count, int idChars = 3) =>
        [.. Enumerable.Range(0, count).Select(i => new Candidate { Id = $"c{i}".PadRight(idChars, 'x'), Instruction = $"Write a poem about the number {i}." })];

    [Fact]
    public Task Every_limit_is_refused_with_its_message_and_requests_at_the_limit_are_served() => WithServiceAsync(async client =>
    {
        var seeds = await Assert.ThrowsAsync<RpcException>(() => client.CreateNamespaceAsync(Create(Seeds + 1)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, seeds.StatusCode);
        Assert.Equal($"seed_instructions has {Seeds + 1} entries; at most {Seeds} are accepted per call (split the batch).", seeds.Status.Detail);
        Assert.True((await client.CreateNamespaceAsync(Create(Seeds))).Created);

        var batch = new SubmitCandidatesRequest { Namespace = "limits" };
        batch.Candidates.AddRange(Candidates(Batch + 1));
        var tooMany = await Assert.ThrowsAsync<RpcException>(() => client.SubmitCandidatesAsync(batch).ResponseAsync);
        Assert.Equal($"candidates has {Batch + 1} entries; at most {Batch} are accepted per call (split the batch).", tooMany.Status.Detail);

        var check = new CheckCandidatesRequest { Namespace = "limits" };
        check.Candidates.AddRange(Candidates(Batch + 1));
        tooMany = await Assert.ThrowsAsync<RpcException>(() => client.CheckCandidatesAsync(check).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooMany.StatusCode);

        var longId = new SubmitCandidatesRequest { Namespace = "limits" };
        longId.Candidates.AddRange(Candidates(1, IdChars + 1));
        var id = await Assert.ThrowsAsync<RpcException>(() => client.SubmitCandidatesAsync(longId).ResponseAsync);
        Assert.Equal($"A candidate id has {IdChars + 1} characters; at most {IdChars} are accepted.", id.Status.Detail);

        var longText = new SubmitCandidatesRequest { Namespace = "limits" };
        longText.Candidates.Add(new Candidate { Id = "long", Instruction = new string('w', TextChars + 1) });
        var text = await Assert.ThrowsAsync<RpcException>(() => client.SubmitCandidatesAsync(longText).ResponseAsync);
        Assert.Equal($"The instruction has {TextChars + 1} characters; at most {TextChars} are accepted.", text.Status.Detail);

        // Nothing refused was inserted; a batch at every limit is decided in full.
        var ok = new SubmitCandidatesRequest { Namespace = "limits" };
        ok.Candidates.AddRange(Candidates(Batch, IdChars));
        ok.Candidates[0].Instruction = new string('w', TextChars);
        var decided = await client.SubmitCandidatesAsync(ok);
        Assert.Equal(Batch, decided.Decisions.Count);
        Assert.Equal(Batch, decided.Stats.Decided);
        return true;
    });
}
