using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Alpaca.Generator.Api.Tests.Support;

/// <summary>Run requests and the client side of WatchRun, shared by the tests.</summary>
public static class GrpcRunKit
{
    public static RunSpec Spec(string teacherUrl, int target, string outputDir, int concurrency = 1, bool extras = false) => new()
    {
        SeedTasksPath = RepoPaths.Data("seed_tasks.jsonl"),
        Teacher = new TeacherConfig
        {
            BaseUrl = teacherUrl,
            Model = "loopback-teacher",
            Api = TeacherApi.Completions,
            Concurrency = concurrency,
            MaxRetries = 0,
            UnreachableBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
        },
        NumInstructions = target,
        Sampling = new GenerationSampling { Seed = 7 },
        DedupExtras = extras,
        OutputDir = outputDir,
        DisplayName = "test run",
    };

    /// <summary>Every snapshot WatchRun sends until the stream ends (after a terminal state).</summary>
    public static async Task<List<Run>> WatchToEndAsync(GeneratorService.GeneratorServiceClient client, string runId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var seen = new List<Run>();
        using var call = client.WatchRun(new WatchRunRequest { RunId = runId }, cancellationToken: cts.Token);
        try
        {
            await foreach (var response in call.ResponseStream.ReadAllAsync(cts.Token))
            {
                seen.Add(response.Run);
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cts.IsCancellationRequested)
        {
            Assert.Fail($"Run {runId} did not end within {timeout}; last state {seen.LastOrDefault()?.State} with {seen.LastOrDefault()?.Progress.Kept} kept.");
        }

        return seen;
    }

    /// <summary>Polls GetRun until the run has at least <paramref name="kept"/> kept instructions.</summary>
    public static async Task<Run> WaitForKeptAsync(GeneratorService.GeneratorServiceClient client, string runId, long kept, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var run = (await client.GetRunAsync(new GetRunRequest { RunId = runId })).Run;
            if (run.Progress.Kept >= kept || run.State is RunState.Succeeded or RunState.Failed or RunState.Cancelled)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Run {runId} did not reach {kept} kept within {timeout} (state {run.State}, kept {run.Progress.Kept}).");
            await Task.Delay(25);
        }
    }

    /// <summary>Asserts the rejection counters equal the plan's, reason by reason.</summary>
    public static void AssertCounts(ReplyPlan plan, Contracts.V1.RunProgress progress)
    {
        var actual = progress.RejectedByReason.Where(r => r.Value != 0).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        var expected = plan.ExpectedRejections.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(plan.ExpectedGenerated, progress.Generated);
        Assert.Equal(plan.Target, progress.Kept);
    }

    /// <summary>Replays the kept instructions through the dedup engine (seeds first) and compares regen.json's extras.</summary>
    public static void AssertExtrasMatchTheEngine(string regenPath, IEnumerable<string> kept)
    {
        var seeds = File.ReadLines(RepoPaths.Data("seed_tasks.jsonl")).Where(l => l.Length > 0)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("instruction").GetString()!);
        var pool = new Alpaca.Dedup.Pool.DedupPool(seeds);
        using var regen = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(regenPath));
        var records = regen.RootElement.EnumerateArray().ToList();
        var i = 0;
        foreach (var instruction in kept)
        {
            var extras = pool.Submit(instruction, withExtras: true).Extras!;
            var record = records[i++];
            Assert.Equal(instruction, record.GetProperty("instruction").GetString());
            var expected = new List<(string, double)>();
            foreach (var s in extras.MostSimilar)
            {
                // A repeated text keeps its first (highest) place, as the reference's dict does.
                if (!expected.Exists(e => e.Item1 == s.Instruction))
                {
                    expected.Add((s.Instruction, s.Score));
                }
            }

            Assert.Equal(expected, record.GetProperty("most_similar_instructions").EnumerateObject().Select(p => (p.Name, p.Value.GetDouble())).ToList());
            Assert.Equal(extras.AverageSimilarity, record.GetProperty("avg_similarity_score").GetDouble());
        }

        Assert.Equal(records.Count, i);
    }
}
