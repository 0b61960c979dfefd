using System.Security.Cryptography;
using System.Text.Json;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Export;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using Alpaca.Generator.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Runs;

public class GenerationRunTests
{
    private static readonly Dictionary<Fate, string> ReasonOf = new()
    {
        [Fate.RougeDuplicate] = "rouge_duplicate",
        [Fate.TooShort] = "too_short",
        [Fate.TooLong] = "too_long",
        [Fate.Blacklisted] = "blacklist",
        [Fate.WriteAProgram] = "write_a_program",
        [Fate.StartsWithPunctuation] = "starts_with_punctuation",
        [Fate.StartsWithNonAscii] = "starts_with_non_ascii",
        [Fate.Malformed] = "malformed",
        [Fate.Truncated] = "truncated",
    };

    private static Dictionary<string, long> ExpectedRejections(ReplyScript script) =>
        script.Expected.Where(e => e.Key != Fate.Kept && e.Value > 0).ToDictionary(e => ReasonOf[e.Key], e => (long)e.Value);

    [Fact]
    public async Task A_full_run_keeps_and_rejects_exactly_what_the_replies_contain()
    {
        var script = new ReplyScript(seed: 11).AddRounds(rounds: 12, batch: 5);
        await using var server = new LoopbackTeacher(script.Next);

        // The first round meets a 500, a 429, a context-length refusal and finally a garbage body.
        server.Enqueue(
            new Fault.Status(500, "internal error"),
            new Fault.Status(429, "Rate limit reached", RetryAfter: "0"),
            new Fault.Status(400, "Please reduce your prompt; or completion length.", ErrorCode: "context_length_exceeded"),
            new Fault.Garbage("upstream timeout"));
        using var kit = new RunKit();
        using var client = RunKit.Client(server.BaseUrl);
        var publisher = new RecordingPublisher();
        var target = script.Expected[Fate.Kept];
        var spec = kit.Spec("full", target) with { DedupExtras = true };

        var result = await new GenerationRun(kit.Store, client, new InProcessDeduplicator(), publisher).RunAsync(spec);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(script.Replies.Count, script.Consumed);
        Assert.Equal(target, result.Kept);
        Assert.Equal(ExpectedRejections(script), result.RejectedByReason);
        Assert.Equal(script.Expected.Values.Sum(), result.Generated);
        Assert.Equal(0, result.Surplus);
        Assert.Equal(5, result.GarbageReplies);
        Assert.Equal(2, result.TeacherRetries);
        Assert.Equal(1, result.ContextShrinks);
        Assert.Equal(13, result.Rounds);
        Assert.Equal(server.ReportedPromptTokens, result.PromptTokens);
        Assert.Equal(server.ReportedCompletionTokens, result.CompletionTokens);
        Assert.Equal((result.PromptTokens + result.CompletionTokens) * 0.02 / 1000, result.EstimatedCost, 9);

        // The kept records are the scripted keepers, in order, with the fields as written (noinput → "").
        var stored = (await kit.Store.LoadAsync("full"))!;
        Assert.Equal(script.KeptItems.Select(i => (i.Instruction, i.Input, i.Output)), stored.Kept.Select(k => (k.Instruction, k.Input, k.Output)));

        // alpaca_data.json: exactly those records; regen.json: plus the dedup extras.
        var dataset = JsonDocument.Parse(File.ReadAllText(result.DatasetPath!)).RootElement;
        Assert.Equal(target, dataset.GetArrayLength());
        Assert.All(dataset.EnumerateArray(), r => Assert.Equal(["instruction", "input", "output"], r.EnumerateObject().Select(p => p.Name)));
        var regen = JsonDocument.Parse(File.ReadAllText(result.RegenPath!)).RootElement;
        Assert.All(regen.EnumerateArray(), r =>
        {
            var similar = r.GetProperty("most_similar_instructions").EnumerateObject().Select(p => p.Value.GetDouble()).ToList();
            Assert.Equal(10, similar.Count);
            Assert.Equal(similar.OrderByDescending(s => s), similar);
            Assert.True(similar[0] <= 0.7);
            Assert.InRange(r.GetProperty("avg_similarity_score").GetDouble(), 0, similar[0]);
        });

        // The dataset-published event names the files and the dataset's hash.
        var published = Assert.Single(publisher.Published);
        Assert.Equal(("full", target, result.DatasetPath, result.RegenPath), (published.RunId, published.RecordCount, published.DatasetPath, published.RegenPath));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(result.DatasetPath!))), published.Sha256);
    }

    [Fact]
    public async Task Chat_completions_with_echoed_headers_give_the_same_counts()
    {
        var script = new ReplyScript(seed: 5).AddRounds(rounds: 4, batch: 5);
        await using var server = new LoopbackTeacher(script.Next, echoHeaderInChat: true);
        using var kit = new RunKit();
        using var client = RunKit.Client(server.BaseUrl, TeacherApi.ChatCompletions);

        var result = await new GenerationRun(kit.Store, client, new InProcessDeduplicator()).RunAsync(kit.Spec("chat", script.Expected[Fate.Kept]));

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(script.Expected[Fate.Kept], result.Kept);
        Assert.Equal(ExpectedRejections(script), result.RejectedByReason);
        Assert.Equal(20, server.Calls.Count);
        Assert.All(server.Calls, c => Assert.Equal("/v1/chat/completions", c.Path));
    }

    [Fact]
    public async Task Several_rounds_in_flight_stop_at_exactly_the_target()
    {
        var script = new ReplyScript(seed: 3).AddRounds(rounds: 40, batch: 5);
        await using var server = new LoopbackTeacher(script.Next) { ResponseDelay = TimeSpan.FromMilliseconds(40) };
        using var kit = new RunKit();
        using var client = RunKit.Client(server.BaseUrl);
        const int target = 57;

        var result = await new GenerationRun(kit.Store, client, new InProcessDeduplicator()).RunAsync(kit.Spec("parallel", target) with { Concurrency = 3 });

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(3, server.MaxConcurrentRequests);
        var stored = (await kit.Store.LoadAsync("parallel"))!;
        Assert.Equal(target, stored.Kept.Count);
        Assert.Equal(target, stored.Kept.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(target, stored.Kept.Select(k => k.Instruction).Distinct().Count());
        var golden = TestData.GoldenUnique.Select(g => g.Instruction).ToHashSet();
        Assert.All(stored.Kept, k => Assert.Contains(k.Instruction, golden));

        // Every parsed item is accounted for once: kept, rejected for a reason, or beyond the target.
        Assert.Equal(result.Generated, result.Kept + result.RejectedTotal + result.Surplus);
        Assert.Equal(target, JsonDocument.Parse(File.ReadAllText(result.DatasetPath!)).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task A_run_stopped_mid_way_resumes_without_losing_or_repeating_anything()
    {
        var script = new ReplyScript(seed: 21).AddRounds(rounds: 25, batch: 5);
        await using var server = new LoopbackTeacher(script.Next) { ResponseDelay = TimeSpan.FromMilliseconds(30) };
        using var kit = new RunKit();
        using var client = RunKit.Client(server.BaseUrl);
        const int target = 90;
        var spec = kit.Spec("resume", target) with { Concurrency = 2 };

        // First process: stopped once 30 are kept (cancelled as a shutdown would).
        using var stop = new CancellationTokenSource();
        var first = new GenerationRun(kit.Store, client, new InProcessDeduplicator());
        first.ProgressChanged += p =>
        {
            if (p.Kept >= 30)
            {
                stop.Cancel();
            }
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.RunAsync(spec, stop.Token));
        var before = (await kit.Store.LoadAsync("resume"))!.Kept;
        Assert.InRange(before.Count, 30, target - 1);
        Assert.Equal(before.Count, JsonDocument.Parse(File.ReadAllText(Path.Combine(kit.OutputDir, "alpaca_data.json"))).RootElement.GetArrayLength());

        // Second process: a new run object and a new (empty) in-process dedup over the same store.
        var result = await new GenerationRun(kit.Store, client, new InProcessDeduplicator()).RunAsync(spec);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        var after = (await kit.Store.LoadAsync("resume"))!.Kept;
        Assert.Equal(target, after.Count);
        Assert.Equal(before, after.Take(before.Count));
        Assert.Equal(target, after.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(target, after.Select(k => k.Instruction).Distinct().Count());
        var golden = TestData.GoldenUnique.Select(g => g.Instruction).ToHashSet();
        Assert.All(after, k => Assert.Contains(k.Instruction, golden));
    }

    [Theory]
    [InlineData(CrashPoint.BeforeAppend, true)]
    [InlineData(CrashPoint.BeforeAppend, false)]
    [InlineData(CrashPoint.AfterAppend, true)]
    [InlineData(CrashPoint.AfterAppend, false)]
    public async Task A_crash_inside_a_round_is_replayed_exactly_once(CrashPoint point, bool durableDedup)
    {
        var script = new ReplyScript(seed: 8).AddRounds(rounds: 30, batch: 5);
        await using var server = new LoopbackTeacher(script.Next);
        using var kit = new RunKit();
        using var client = RunKit.Client(server.BaseUrl);
        const int target = 70;
        var spec = kit.Spec("crash", target);

        // A durable dedup service outlives the generator's crash (same instance); an embedded one does not.
        var dedupBefore = new InProcessDeduplicator();
        await Assert.ThrowsAsync<IOException>(() => new GenerationRun(new CrashingStore(kit.Store, 2, point), client, dedupBefore).RunAsync(spec));

        var onDisk = (await kit.Store.LoadAsync("crash"))!;
        var pending = Assert.IsType<PendingRound>(onDisk.Checkpoint.Pending);
        var roundPrefix = $"r{pending.Round}.";
        Assert.Equal(point == CrashPoint.AfterAppend, onDisk.Kept.Any(k => k.CandidateId.StartsWith(roundPrefix, StringComparison.Ordinal)));

        // The power cut also tore a line being written.
        File.AppendAllText(Path.Combine(kit.Store.RunFolder("crash"), "kept.jsonl"), """{"candidate_id":"r99.p0.s0","instruc""");

        var dedupAfter = durableDedup ? dedupBefore : new InProcessDeduplicator();
        var result = await new GenerationRun(kit.Store, client, dedupAfter).RunAsync(spec);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        var kept = (await kit.Store.LoadAsync("crash"))!.Kept;
        Assert.Equal(target, kept.Count);
        Assert.Equal(target, kept.Select(k => k.CandidateId).Distinct().Count());
        Assert.Equal(target, kept.Select(k => k.Instruction).Distinct().Count());
        Assert.Equal(onDisk.Kept, kept.Take(onDisk.Kept.Count));

        // Every candidate of the interrupted round that the dedup accepted is in the output: none was lost.
        var verdicts = await dedupAfter.SubmitAsync(spec.DedupNamespace, pending.Candidates, withExtras: false);
        var accepted = pending.Candidates.Where((c, i) => verdicts[i].Kept).Select(c => c.CandidateId).ToList();
        Assert.NotEmpty(accepted);
        Assert.All(accepted, id => Assert.Contains(kept, k => k.CandidateId == id));
        var replayed = accepted.Where(id => onDisk.Kept.All(k => k.CandidateId != id)).ToList();
        Assert.Equal(onDisk.Kept.Select(k => k.CandidateId).Concat(replayed), kept.Take(onDisk.Kept.Count + replayed.Count).Select(k => k.CandidateId));
    }

    [Fact]
    public async Task An_unreachable_teacher_pauses_the_run_then_fails_it_with_the_reason()
    {
        using var kit = new RunKit();
        using var client = RunKit.Client(new Uri($"http://127.0.0.1:{FreePort.Next()}/v1"));
        var statuses = new List<RunStatus>();
        var run = new GenerationRun(kit.Store, client, new InProcessDeduplicator());
        run.ProgressChanged += p => statuses.Add(p.Status);

        var result = await run.RunAsync(kit.Spec("down", 10) with { UnreachableBudget = TimeSpan.FromSeconds(1) });

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("unreachable", result.Error);
        Assert.Contains("refused", result.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(RunStatus.Paused, statuses);
        Assert.True(result.FailedRounds >= 2);
        Assert.Equal(RunStatus.Failed, (await kit.Store.LoadAsync("down"))!.Checkpoint.Status);
    }

    [Fact]
    public async Task A_teacher_answering_garbage_is_counted_and_ends_the_run_without_a_crash()
    {
        await using var server = new LoopbackTeacher(_ => new ScriptedReply("unused"));
        server.Enqueue([.. Enumerable.Repeat<Fault>(new Fault.Garbage("<html>not json</html>"), 20)]);
        using var kit = new RunKit();
        using var client = RunKit.Client(server.BaseUrl);

        var result = await new GenerationRun(kit.Store, client, new InProcessDeduplicator()).RunAsync(kit.Spec("garbage", 10) with { MaxBarrenRounds = 3 });

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(15, result.GarbageReplies);
        Assert.Equal(3, result.Rounds);
        Assert.Contains("no parseable item", result.Error);
    }

    [Fact]
    public async Task A_finished_run_is_not_run_again_and_a_changed_spec_is_refused()
    {
        var script = new ReplyScript(seed: 2).AddRounds(rounds: 10, batch: 5);
        await using var server = new LoopbackTeacher(script.Next);
        using var kit = new RunKit();
        using var client = RunKit.Client(server.BaseUrl);
        var spec = kit.Spec("done", 5);
        var publisher = new RecordingPublisher();

        Assert.Equal(RunStatus.Succeeded, (await new GenerationRun(kit.Store, client, new InProcessDeduplicator(), publisher).RunAsync(spec)).Status);
        var calls = server.Calls.Count;

        var again = await new GenerationRun(kit.Store, client, new InProcessDeduplicator(), publisher).RunAsync(spec with { Seed = null });
        Assert.Equal((RunStatus.Succeeded, 5L), (again.Status, again.Kept));
        Assert.Equal(calls, server.Calls.Count);
        Assert.Single(publisher.Published);

        var changed = await Assert.ThrowsAsync<GeneratorInputException>(() => new GenerationRun(kit.Store, client, new InProcessDeduplicator()).RunAsync(spec with { NumInstructions = 6 }));
        Assert.Contains("NumInstructions", changed.Message);
        Assert.Contains("'done'", changed.Message);
    }

    [Fact]
    public async Task Bad_specs_are_named_before_anything_runs()
    {
        using var kit = new RunKit();
        using var client = RunKit.Client(new Uri("http://127.0.0.1:9/v1"));
        var run = new GenerationRun(kit.Store, client, new InProcessDeduplicator());

        Assert.Contains("RunId", (await Assert.ThrowsAsync<GeneratorInputException>(() => run.RunAsync(kit.Spec("../x", 5)))).Message);
        Assert.Contains("NumInstructions", (await Assert.ThrowsAsync<GeneratorInputException>(() => run.RunAsync(kit.Spec("ok", 0)))).Message);
        Assert.Contains("NumPromptInstructions", (await Assert.ThrowsAsync<GeneratorInputException>(() => run.RunAsync(kit.Spec("ok", 5) with { Seeds = TestData.Seeds.Take(2).ToList() }))).Message);
        Assert.Empty(await kit.Store.ListRunIdsAsync());
    }
}
