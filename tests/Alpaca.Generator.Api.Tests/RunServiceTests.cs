using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Runs;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Generator.Api.Tests;

/// <summary>The generator service in this process over real gRPC, with the local state folder and in-process dedup.</summary>
public sealed class RunServiceTests : IDisposable
{
    private readonly TempDir _dir = new("alpaca-gen-api");

    [Fact]
    public async Task Kept_and_rejected_by_reason_equal_what_the_replies_were_built_with_and_garbage_is_counted()
    {
        var plan = new ReplyPlan(seed: 11, target: 60, batch: 5);
        Assert.Equal(9, plan.ExpectedRejections.Count); // every kind of defect is in the replies
        await using var teacher = new TeacherServer(plan) { GarbageRequests = [1] };
        await using var host = await GeneratorHost.StartAsync(_dir.File("state"));
        var outDir = _dir.File("out");

        var started = (await host.Client.StartRunAsync(new StartRunRequest { RunId = "counts", Spec = GrpcRunKit.Spec(teacher.BaseUrl, 60, outDir, extras: true) })).Run;
        Assert.Equal("gen-counts", started.DedupNamespace);
        var snapshots = await GrpcRunKit.WatchToEndAsync(host.Client, "counts", TimeSpan.FromSeconds(60));
        var run = snapshots[^1];

        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}");
        GrpcRunKit.AssertCounts(plan, run.Progress);
        // A watcher may skip intermediate snapshots (the latest wins), never go backwards or miss the last.
        Assert.Equal(snapshots.Select(s => s.Progress.Kept).Order(), snapshots.Select(s => s.Progress.Kept));
        Assert.Equal(plan.ScriptRounds + 1, run.Progress.Rounds); // + the garbage round
        Assert.Equal(TeacherServer.PromptTokensPerPrompt * 5L * plan.ScriptRounds, run.Progress.PromptTokens);
        Assert.Equal(TeacherServer.CompletionTokensPerPrompt * 5L * plan.ScriptRounds, run.Progress.CompletionTokens);
        Assert.Equal("ds-counts", run.DatasetId);

        // Durable counters the contract does not carry: 5 garbage replies (one request of 5 prompts), the surplus.
        var checkpoint = await host.Services.GetRequiredService<StateRunStore>().LoadCheckpointAsync("counts");
        Assert.Equal(5, checkpoint!.Counters.GarbageReplies);
        Assert.Equal(plan.Surplus, checkpoint.Counters.Surplus);

        Assert.Equal(plan.KeptInstructions.Take(60), AlpacaRecords.Instructions(run.DatasetPath));

        // The service's meter counted the same work.
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(host.Http, "/metrics"));
        // (Meters are process-wide and the tests run hosts side by side, so the series are told apart by run id.)
        Assert.Matches(@"(?m)^alpaca_generator_instructions_kept_total\{[^}]*run_id=""counts""[^}]*\} 60( |$)", metrics);
        Assert.Matches($@"(?m)^alpaca_generator_instructions_rejected_total\{{(?=[^}}]*reason=""blacklist"")(?=[^}}]*run_id=""counts"")[^}}]*\}} {plan.ExpectedRejections["blacklist"]}( |$)", metrics);
        using var regen = JsonDocument.Parse(File.ReadAllBytes(run.RegenPath));
        Assert.Equal(60, regen.RootElement.GetArrayLength());
        Assert.All(regen.RootElement.EnumerateArray(), r =>
        {
            var similar = r.GetProperty("most_similar_instructions").EnumerateObject().Select(p => p.Value.GetDouble()).ToList();
            Assert.InRange(similar.Count, 1, 10);
            Assert.Equal(similar.OrderByDescending(s => s), similar);
            Assert.All(similar, s => Assert.InRange(s, 0, 0.7));
            Assert.InRange(r.GetProperty("avg_similarity_score").GetDouble(), 0, 0.7);
        });
    }

    [Fact]
    public async Task A_teacher_that_takes_one_prompt_per_request_and_no_logit_bias_is_served_when_the_request_says_so()
    {
        var plan = new ReplyPlan(seed: 17, target: 30, batch: 5);
        await using var teacher = new TeacherServer(plan) { SinglePromptNoLogitBias = true };
        await using var host = await GeneratorHost.StartAsync(_dir.File("state"));
        var spec = GrpcRunKit.Spec(teacher.BaseUrl, 30, _dir.File("out"));
        spec.Teacher.UnbatchedPrompts = true;
        spec.Sampling.NoLogitBias = true;

        await host.Client.StartRunAsync(new StartRunRequest { RunId = "single", Spec = spec });
        var run = (await GrpcRunKit.WatchToEndAsync(host.Client, "single", TimeSpan.FromSeconds(60)))[^1];

        Assert.True(run.State == RunState.Succeeded, $"{run.State}: {run.Error}");
        Assert.Equal(0, teacher.Refused);
        Assert.Equal(5 * plan.ScriptRounds, teacher.Requests);

        // The five requests of a round race, so which reply answers which prompt varies; the counts do not
        // (of two identical instructions exactly one is kept, whichever is decided first).
        GrpcRunKit.AssertCounts(plan, run.Progress);
        var instructions = AlpacaRecords.Instructions(run.DatasetPath);
        Assert.Equal(30, instructions.Distinct(StringComparer.Ordinal).Count());
        Assert.All(instructions, i => Assert.Contains(i, plan.AllKeepable));
    }

    [Fact]
    public async Task A_seed_file_with_malformed_lines_is_INVALID_ARGUMENT_naming_each_line()
    {
        await using var host = await GeneratorHost.StartAsync(_dir.File("state"));
        var seeds = _dir.File("seeds.jsonl");
        var good = File.ReadLines(RepoPaths.Data("seed_tasks.jsonl")).First();
        await File.WriteAllLinesAsync(seeds, [good, "{\"instruction\": \"Name a color.\", \"instances\": [", good, "{\"instruction\": \"\", \"instances\": [{\"input\": \"\", \"output\": \"x\"}]}", "[1, 2]"]);
        var spec = GrpcRunKit.Spec("http://127.0.0.1:9/v1", 10, _dir.File("out"));
        spec.SeedTasksPath = seeds;

        var e = await Assert.ThrowsAsync<RpcException>(() => host.Client.StartRunAsync(new StartRunRequest { RunId = "bad-seeds", Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("3 malformed seed line(s)", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"{seeds} line 2", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"{seeds} line 4: field 'instruction' is empty", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"{seeds} line 5", e.Status.Detail, StringComparison.Ordinal);

        // Nothing was created.
        var missing = await Assert.ThrowsAsync<RpcException>(() => host.Client.GetRunAsync(new GetRunRequest { RunId = "bad-seeds" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        spec.SeedTasksPath = RepoPaths.Data("seed_tasks.jsonl");
        spec.Teacher.BaseUrl = "ftp://example/v1";
        var badUrl = await Assert.ThrowsAsync<RpcException>(() => host.Client.StartRunAsync(new StartRunRequest { RunId = "bad-url", Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badUrl.StatusCode);
        Assert.Contains("base_url", badUrl.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_teacher_pauses_the_run_then_fails_it_with_the_reason_after_the_budget()
    {
        // A port we hold bound but never listen on: connections are refused, and no server started by a
        // test running in parallel can take it (a merely "free" port could be reused by one).
        using var held = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        held.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)held.LocalEndPoint!).Port;
        await using var host = await GeneratorHost.StartAsync(_dir.File("state"));
        var spec = GrpcRunKit.Spec($"http://127.0.0.1:{port}/v1", 10, _dir.File("out"));
        spec.Teacher.UnreachableBudget = Duration.FromTimeSpan(TimeSpan.FromSeconds(1.5));
        await host.Client.StartRunAsync(new StartRunRequest { RunId = "unreachable", Spec = spec });

        var snapshots = await GrpcRunKit.WatchToEndAsync(host.Client, "unreachable", TimeSpan.FromSeconds(30));
        var run = snapshots[^1];
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains(snapshots, s => s.State == RunState.Paused);
        Assert.Contains("unreachable", run.Error, StringComparison.Ordinal);
        Assert.Contains("budget 1.5 s", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, run.Progress.Kept);
    }

    [Fact]
    public async Task Start_is_idempotent_by_id_runs_are_listed_and_a_cancelled_run_stays_cancelled_after_a_restart()
    {
        var plan = new ReplyPlan(seed: 5, target: 400, batch: 5);
        await using var teacher = new TeacherServer(plan, delay: TimeSpan.FromMilliseconds(200));
        var state = _dir.File("state");
        await using (var host = await GeneratorHost.StartAsync(state))
        {
            var request = new StartRunRequest { RunId = "to-cancel", Spec = GrpcRunKit.Spec(teacher.BaseUrl, 400, _dir.File("out")) };
            var first = (await host.Client.StartRunAsync(request)).Run;
            var again = (await host.Client.StartRunAsync(request)).Run;
            Assert.Equal(first.CreatedAt, again.CreatedAt);

            var other = (await host.Client.StartRunAsync(new StartRunRequest { Spec = GrpcRunKit.Spec(teacher.BaseUrl, 1, _dir.File("out2")) })).Run;
            Assert.StartsWith("run-", other.Id, StringComparison.Ordinal);
            var listed = (await host.Client.ListRunsAsync(new ListRunsRequest())).Runs.Select(r => r.Id).ToList();
            Assert.Equal([other.Id, "to-cancel"], listed); // newest first
            var page = await host.Client.ListRunsAsync(new ListRunsRequest { PageSize = 1 });
            Assert.Equal("1", page.NextPageToken);
            Assert.Equal(RunState.Succeeded, (await GrpcRunKit.WatchToEndAsync(host.Client, other.Id, TimeSpan.FromSeconds(30)))[^1].State);

            await GrpcRunKit.WaitForKeptAsync(host.Client, "to-cancel", 1, TimeSpan.FromSeconds(30));
            var cancelled = (await host.Client.CancelRunAsync(new CancelRunRequest { RunId = "to-cancel" })).Run;
            Assert.Equal(RunState.Cancelled, cancelled.State);
            Assert.InRange(cancelled.Progress.Kept, 1, 399);
            Assert.Equal(cancelled.Progress.Kept, AlpacaRecords.Instructions(cancelled.DatasetPath).Count);
        }

        await Task.Delay(300); // a request cancelled in flight may still be counted by the server
        var requestsBefore = teacher.Requests;
        await using (var host = await GeneratorHost.StartAsync(state))
        {
            var run = (await host.Client.GetRunAsync(new GetRunRequest { RunId = "to-cancel" })).Run;
            Assert.Equal(RunState.Cancelled, run.State);
            await Task.Delay(500);
            Assert.Equal(requestsBefore, teacher.Requests); // not resumed
            var unknown = await Assert.ThrowsAsync<RpcException>(() => host.Client.CancelRunAsync(new CancelRunRequest { RunId = "nope" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        }
    }

    public void Dispose() => _dir.Dispose();
}
