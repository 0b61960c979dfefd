using System.Diagnostics;
using Alpaca.Generator.Teacher;
using Alpaca.Generator.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Teacher;

public class OpenAiTeacherClientTests
{
    private static readonly RetryPolicy Quick = new() { MaxRetries = 3, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) };

    private static OpenAiTeacherClient Client(LoopbackTeacher server, TeacherApi api = TeacherApi.Completions, RetryPolicy? retry = null, TimeSpan? timeout = null, string? key = "sk-test") =>
        new(new TeacherOptions
        {
            BaseUrl = server.BaseUrl,
            Model = "teacher-model",
            Api = api,
            ApiKey = key,
            Retry = retry ?? Quick,
            RequestTimeout = timeout ?? TimeSpan.FromSeconds(30),
        });

    private static LoopbackTeacher Echo() => new(prompt => new ScriptedReply($"reply to {prompt.Length} chars", "stop"));

    [Fact]
    public async Task Completions_sends_the_round_as_one_request_with_the_reference_arguments()
    {
        await using var server = Echo();
        using var client = Client(server);

        var batch = await client.CompleteAsync(["p-one", "p-two!", "p-three"], new TeacherSampling(), CancellationToken.None);

        Assert.Equal(["reply to 5 chars", "reply to 6 chars", "reply to 7 chars"], batch.Completions.Select(c => c.Text));
        Assert.All(batch.Completions, c => Assert.Equal("stop", c.FinishReason));
        var call = Assert.Single(server.Calls);
        Assert.Equal("/v1/completions", call.Path);
        Assert.Equal("Bearer sk-test", call.Authorization);
        var body = call.Body;
        Assert.Equal("teacher-model", body["model"]!.GetValue<string>());
        Assert.Equal(["p-one", "p-two!", "p-three"], body["prompt"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(3072, body["max_tokens"]!.GetValue<int>());
        Assert.Equal(1.0, body["temperature"]!.GetValue<double>());
        Assert.Equal(1.0, body["top_p"]!.GetValue<double>());
        Assert.Equal(1, body["n"]!.GetValue<int>());
        Assert.Equal(["\n20", "20.", "20."], body["stop"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(-100, body["logit_bias"]!["50256"]!.GetValue<int>());

        // Usage as the server reported it (its token count is whitespace words).
        Assert.Equal(3, batch.Usage.PromptTokens);
        Assert.Equal(12, batch.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Chat_sends_one_user_message_per_prompt()
    {
        await using var server = Echo();
        using var client = Client(server, TeacherApi.ChatCompletions, key: null);

        var batch = await client.CompleteAsync(["a", "bb"], new TeacherSampling { Temperature = 0.5, MaxTokens = 100, Stop = [], LogitBias = new Dictionary<string, int>() }, CancellationToken.None);

        Assert.Equal(["reply to 1 chars", "reply to 2 chars"], batch.Completions.Select(c => c.Text));
        Assert.Equal(2, server.Calls.Count);
        Assert.All(server.Calls, c =>
        {
            Assert.Equal("/v1/chat/completions", c.Path);
            Assert.Null(c.Authorization);
            Assert.Equal("user", c.Body["messages"]![0]!["role"]!.GetValue<string>());
            Assert.Equal(0.5, c.Body["temperature"]!.GetValue<double>());
            Assert.Equal(100, c.Body["max_tokens"]!.GetValue<int>());
            Assert.Null(c.Body["stop"]);
            Assert.Null(c.Body["logit_bias"]);
        });
    }

    [Fact]
    public async Task Retries_5xx_and_429_and_honours_retry_after()
    {
        await using var server = Echo();
        server.Enqueue(new Fault.Status(500, "boom"), new Fault.Status(429, "slow down", RetryAfter: "1"), new Fault.Status(503, "busy"));
        using var client = Client(server);
        var watch = Stopwatch.StartNew();

        var batch = await client.CompleteAsync(["x"], new TeacherSampling(), CancellationToken.None);

        Assert.Equal("reply to 1 chars", batch.Completions[0].Text);
        Assert.Equal(3, batch.Retries);
        Assert.Equal(4, server.Calls.Count);

        // Back-off alone is at most 10 + 20 + 40 ms; the 1 s wait is the server's Retry-After.
        var gap = server.Calls[2].At - server.Calls[1].At;
        Assert.True(gap >= TimeSpan.FromMilliseconds(950), $"retried after {gap.TotalMilliseconds} ms");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Context_exceeded_retries_with_max_tokens_times_0_8()
    {
        await using var server = Echo();
        server.Enqueue(
            new Fault.Status(400, "This model's maximum context length is 4097 tokens, however you requested 5000 tokens. Please reduce your prompt; or completion length."),
            new Fault.Status(400, "too long", ErrorCode: "context_length_exceeded"));
        using var client = Client(server);

        var batch = await client.CompleteAsync(["x"], new TeacherSampling(), CancellationToken.None);

        Assert.Equal([3072, 2457, 1965], server.Calls.Select(c => c.Body["max_tokens"]!.GetValue<int>()));
        Assert.Equal(2, batch.ContextShrinks);
        Assert.Equal(0, batch.Retries);
    }

    [Fact]
    public async Task Garbage_replies_come_back_marked_not_thrown()
    {
        await using var server = Echo();
        server.Enqueue(new Fault.Garbage("<html>502 Bad Gateway</html>"), new Fault.Garbage("""{"choices": [{"index": 0, "text": 42}]}"""), new Fault.Garbage("""{"object": "list"}"""));
        using var client = Client(server);

        var notJson = await client.CompleteAsync(["a", "b"], new TeacherSampling(), CancellationToken.None);
        var badText = await client.CompleteAsync(["a", "b"], new TeacherSampling(), CancellationToken.None);
        var noChoices = await client.CompleteAsync(["a"], new TeacherSampling(), CancellationToken.None);

        Assert.All(notJson.Completions, c => Assert.Contains("not JSON", c.Garbage));
        Assert.Contains("'text'", badText.Completions[0].Garbage);
        Assert.Contains("no choice 1", badText.Completions[1].Garbage);
        Assert.Contains("choices", noChoices.Completions[0].Garbage);
    }

    [Fact]
    public async Task Refusals_are_not_retried()
    {
        await using var server = Echo();
        server.Enqueue(new Fault.Status(401, "Incorrect API key provided"));
        using var client = Client(server);

        var e = await Assert.ThrowsAsync<TeacherRejectedException>(() => client.CompleteAsync(["x"], new TeacherSampling(), CancellationToken.None));

        Assert.Equal(401, e.StatusCode);
        Assert.Contains("Incorrect API key provided", e.Message);
        Assert.Single(server.Calls);
    }

    [Fact]
    public async Task An_unreachable_teacher_fails_after_the_retries_with_the_reason()
    {
        var port = FreePort.Next();
        using var client = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = new Uri($"http://127.0.0.1:{port}/v1"), Model = "m", Retry = Quick });

        var e = await Assert.ThrowsAsync<TeacherUnavailableException>(() => client.CompleteAsync(["x"], new TeacherSampling(), CancellationToken.None));

        Assert.Equal(4, e.Attempts);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_slow_teacher_times_out_and_is_retried()
    {
        await using var server = Echo();
        server.Enqueue(new Fault.Slow(TimeSpan.FromSeconds(30)));
        using var client = Client(server, timeout: TimeSpan.FromSeconds(1));

        var batch = await client.CompleteAsync(["x"], new TeacherSampling(), CancellationToken.None);

        // The slow reply must time out and be retried; on a loaded CI machine a normal reply can also miss
        // the timeout now and then, so a second retry is tolerated (the fault is queued only once).
        Assert.InRange(batch.Retries, 1, 2);
        Assert.Equal("reply to 1 chars", batch.Completions[0].Text);
    }

    [Fact]
    public void Back_off_grows_with_full_jitter_and_respects_caps()
    {
        var policy = new RetryPolicy { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2), MaxRetryAfter = TimeSpan.FromSeconds(30) };
        var rng = new Random(1);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var ceiling = Math.Min(100 * Math.Pow(2, attempt), 2000);
            var draws = Enumerable.Range(0, 200).Select(_ => policy.Delay(attempt, null, rng).TotalMilliseconds).ToList();
            Assert.All(draws, d => Assert.InRange(d, 0, ceiling));
            Assert.True(draws.Max() > ceiling * 0.8 && draws.Min() < ceiling * 0.2, "draws should spread over [0, ceiling]");
        }

        Assert.Equal(TimeSpan.FromSeconds(7), policy.Delay(0, TimeSpan.FromSeconds(7), rng));
        Assert.Equal(TimeSpan.FromSeconds(30), policy.Delay(0, TimeSpan.FromHours(1), rng));
    }

    [Fact]
    public void Api_key_comes_from_the_secret_file_or_the_environment()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("key"), "  sk-from-file\n");
        var variable = "ALPACA_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "sk-from-env");
        try
        {
            Assert.Equal("sk-from-file", ApiKeySource.Resolve(variable, dir.File("key")));
            Assert.Equal("sk-from-env", ApiKeySource.Resolve(variable));
            Assert.Null(ApiKeySource.Resolve("ALPACA_TEST_KEY_UNSET_" + Guid.NewGuid().ToString("N")));
            Assert.Contains("missing-key", Assert.Throws<Alpaca.Generator.Seeds.GeneratorInputException>(() => ApiKeySource.Resolve(variable, dir.File("missing-key"))).Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
