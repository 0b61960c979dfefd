using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Teacher;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Alpaca.Platform.Tests.Recipe;

/// <summary>
/// <c>alpaca recipe</c> as a user runs it, a real process starting the embedded platform: the data comes from a
/// loopback HTTP origin and is checked by SHA-256; the first run is killed once the training job is accepted;
/// the same command again resumes (the same job, not a second one), trains, exports, serves and answers, and
/// leaves the platform serving: the test then asks the model through the gateway (gRPC and the OpenAI API) and
/// runs <c>alpaca eval</c> against it.
/// </summary>
public sealed class RecipeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new("recipe");

    [Fact]
    public async Task Recipe_interrupted_after_the_job_is_accepted_resumes_to_a_served_model_that_answers()
    {
        var clock = Stopwatch.StartNew();
        var data = RecipeFixtures.Records();
        await using var origin = new LoopbackFiles("/alpaca_data.json", data);
        var (suite, predictions) = RecipeFixtures.Suite(_dir, 3);
        var state = _dir.File("state");
        string[] args =
        [
            "recipe", "--data", origin.Url, "--data-sha256", RecipeFixtures.Sha256(data), "--records", "24", "--state", state,
            "--port", "0", "--http-port", "0", "--epochs", "1", "--max-steps", "4", "--batch-size", "4", "--max-len", "48",
            "--eval-limit", "3", "--eval-suite", suite, "--eval-predictions", predictions,
        ];

        string apiKey;
        string jobId;
        using (var first = new RecipeFixtures.Running(Start(args)))
        {
            apiKey = await first.WaitForLineAsync("api-key:", TimeSpan.FromSeconds(60));
            var accepted = await first.WaitForLineAsync("[sft] job ", TimeSpan.FromSeconds(60));
            jobId = accepted.Split(' ')[0];
            Assert.Contains("[dedup] done: kept 23, rejected 1", first.Output);
            output.WriteLine($"first run killed after {clock.Elapsed.TotalSeconds:F1} s: {accepted}");
        }

        using var second = new RecipeFixtures.Running(Start(args));
        var gateway = new Uri(await second.WaitForLineAsync("gateway:", TimeSpan.FromSeconds(150)));
        var gatewayHttp = new Uri(await second.WaitForLineAsync("gateway-http:", TimeSpan.FromSeconds(5)));
        Assert.Equal(new Uri(gatewayHttp, "/console/").ToString(), await second.WaitForLineAsync("console:", TimeSpan.FromSeconds(5)));
        var model = (await second.WaitForLineAsync("model:", TimeSpan.FromSeconds(5))).Split(' ')[0];
        Assert.NotEmpty(await second.WaitForLineAsync("sample-answer:", TimeSpan.FromSeconds(5)));
        Assert.Contains($"[sft] job {jobId} accepted", second.Output);
        Assert.DoesNotContain("api-key:", second.Output); // the same state: the key made by the first run stays
        output.WriteLine(second.Output);

        using var channel = GrpcChannel.ForAddress(gateway, new GrpcChannelOptions { HttpHandler = new BearerKeyHandler(apiKey) });
        var jobs = (await new TrainerService.TrainerServiceClient(channel).ListJobsAsync(new ListJobsRequest())).Jobs;
        var job = Assert.Single(jobs);
        Assert.Equal(jobId, job.Id);
        Assert.Equal(JobState.Succeeded, job.State);

        var inference = new InferenceService.InferenceServiceClient(channel);
        Assert.Contains((await inference.ListModelsAsync(new ListModelsRequest())).Models, m => m.Name == model && m.State == ModelState.Ready);
        var answer = await inference.CompleteAsync(new CompleteRequest
        {
            Request = new GenerateRequest { Model = model, Instruction = new AlpacaInstruction { Instruction = "What are the primary colors?" }, Stopping = new StoppingCriteria { MaxTokens = 8 } },
        });
        Assert.True(answer.Result.Usage.CompletionTokens > 0);

        // The OpenAI API of the same gateway, with the same key.
        using var http = new HttpClient { BaseAddress = gatewayHttp };
        http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        var reply = await http.PostAsJsonAsync("/v1/completions", new JsonObject { ["model"] = model, ["prompt"] = "Hello", ["max_tokens"] = 4 });
        Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());

        // The recipe's own short eval left its report where the console lists reports.
        var report = Path.Combine(state, "reports", $"eval-{model}.html");
        Assert.True(File.Exists(report), second.Output);
        Assert.Equal(3, File.ReadAllText(report).Split("data-id=\"user_oriented_task_").Length - 1);

        // alpaca eval against our gateway: three items, their ROUGE-L equal to the reference's.
        var evalOut = _dir.File("eval-gateway");
        var (code, stdout, stderr) = await AlpacaCli.RunAsync(TimeSpan.FromSeconds(60),
            "eval", "--gateway", gateway.ToString(), "--api-key", apiKey, "--model", model, "--out", evalOut, "--limit", "3", "--suite", suite, "--predictions", predictions);
        Assert.True(code == 0, stdout + stderr);
        output.WriteLine(stdout);
        var rows = File.ReadAllLines(Path.Combine(evalOut, "results.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["user_oriented_task_0", "user_oriented_task_1", "user_oriented_task_2"], rows.Select(r => r["id"]!.GetValue<string>()));
        EvalTests.AssertRougeMatchesReference(rows);
        output.WriteLine($"recipe test: {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task A_tampered_download_and_a_malformed_file_are_refused_before_the_platform_starts()
    {
        var good = RecipeFixtures.Records();
        var tampered = (byte[])good.Clone();
        tampered[^3] ^= 0x01;
        await using var origin = new LoopbackFiles("/alpaca_data.json", tampered);
        var state = _dir.File("state-bad");
        var (code, stdout, stderr) = await AlpacaCli.RunAsync(TimeSpan.FromSeconds(60),
            "recipe", "--data", origin.Url, "--data-sha256", RecipeFixtures.Sha256(good), "--state", state, "--port", "0", "--http-port", "0", "--no-serve");
        Assert.Equal(1, code);
        Assert.Contains("SHA-256 mismatch", stderr);
        Assert.Contains(RecipeFixtures.Sha256(tampered), stderr);
        Assert.Equal(1, origin.Requests);
        Assert.Empty(Directory.GetFiles(Path.Combine(state, "downloads")));
        Assert.DoesNotContain("[sft]", stdout);

        // Refused before the platform started: no admin key was made, nothing but the download cache exists.
        Assert.DoesNotContain("api-key:", stdout);
        Assert.Equal(["downloads"], Directory.GetFileSystemEntries(state).Select(Path.GetFileName));

        var malformed = _dir.File("bad.json");
        File.WriteAllText(malformed, "[{\"instruction\": \"ok\", \"output\": \"fine\"},\n {\"instruction\": 5, \"output\": \"x\"}]");
        (code, stdout, stderr) = await AlpacaCli.RunAsync(TimeSpan.FromSeconds(60),
            "recipe", "--data", malformed, "--state", state, "--port", "0", "--http-port", "0", "--no-serve");
        Assert.Equal(1, code);
        Assert.Contains("bad.json", stderr);
        Assert.Contains("line 2", stderr);
        Assert.DoesNotContain("[sft]", stdout);
        Assert.DoesNotContain("api-key:", stdout);
        Assert.Equal(["downloads"], Directory.GetFileSystemEntries(state).Select(Path.GetFileName));
    }

    [Fact]
    public async Task With_a_teacher_the_recipe_generates_its_data_by_Self_Instruct_and_trains_on_it()
    {
        var plan = new ReplyPlan(seed: 5, target: 12, batch: 5);
        await using var teacher = new TeacherServer(plan);
        var (code, stdout, stderr) = await AlpacaCli.RunAsync(TimeSpan.FromSeconds(120),
            "recipe", "--teacher", teacher.BaseUrl, "--teacher-model", "loopback-teacher", "--seeds", RepoPaths.Data("seed_tasks.jsonl"),
            "--records", "12", "--state", _dir.File("state-gen"), "--port", "0", "--http-port", "0",
            "--max-steps", "2", "--batch-size", "4", "--max-len", "48", "--eval-limit", "0", "--no-serve");
        output.WriteLine(stdout);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("[generate] done: kept 12 of ", stdout);
        Assert.Contains($"rejected {plan.ExpectedRejections.GetValueOrDefault("rouge_duplicate")} by ROUGE-L", stdout);
        Assert.Contains("[sft] done: step 2/2", stdout);
        Assert.Contains("sample-answer:", stdout);
    }

    /// <summary>The recipe process; a short trainer lease so the resumed run takes over the killed run's job in seconds, not 30.</summary>
    private static ProcessStartInfo Start(string[] args)
    {
        var start = AlpacaCli.StartInfo(args);
        start.Environment["Alpaca__Trainer__LeaseTtl"] = "00:00:03";
        start.Environment["Alpaca__Trainer__JobPollInterval"] = "00:00:00.500";
        start.Environment["Alpaca__Trainer__Threads"] = "2";
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        return start;
    }

    public void Dispose() => _dir.Dispose();
}
