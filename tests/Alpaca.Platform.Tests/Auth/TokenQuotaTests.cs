using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Api;
using Alpaca.Platform.Tests.Platform;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Platform.Tests.Auth;

/// <summary>
/// Generated tokens per minute per key, through the gateway with a tiny model: what inference generated is
/// charged (gRPC unary and streaming, /v1 plain and streamed), and a key whose quota is spent is refused with
/// RESOURCE_EXHAUSTED / 429 and a retry hint, while another key is served.
/// </summary>
public sealed class TokenQuotaTests : IAsyncLifetime
{
    private const int Limit = 20;
    private readonly TempDir _dir = new();
    private EmbeddedPlatform? _platform;

    private EmbeddedPlatform Platform => _platform!;

    public async Task InitializeAsync()
    {
        _platform = await EmbeddedPlatform.StartAsync([InferenceModule.Instance], new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = _dir.Path,
            // The default for keys without their own limit: large enough never to be reached here.
            ExtraSettings = new Dictionary<string, string?> { ["Alpaca:Auth:TokensPerMinute"] = "100000" },
            ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>> { [InferenceModule.Name] = InferenceModule.ServeAtStart(TinyGguf.Write(_dir)) },
        });
        await InferenceModule.WaitForModelAsync(Platform.App(InferenceModule.Name), TimeSpan.FromSeconds(30));
    }

    private async Task<string> KeyAsync(int? tokensPerMinute) =>
        (await Platform.Keys!.CreateAsync("quota", [ApiScope.Inference], tokensPerMinute)).Key;

    private static GenerateRequest Request(int tokens) => new()
    {
        Prompt = "Count",
        Sampling = new SamplingParameters { Temperature = 0 },
        Stopping = new StoppingCriteria { MaxTokens = tokens, IgnoreEos = true },
    };

    private static void AssertRetryHint(TimeSpan retry, int overdrawn)
    {
        // Empty by `overdrawn` tokens: one token comes back every 60/Limit s, so (overdrawn + 1) of them are
        // needed; a little has refilled while the test ran.
        var expected = TimeSpan.FromMinutes((overdrawn + 1) / (double)Limit);
        Assert.InRange(retry, expected - TimeSpan.FromSeconds(10), expected + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Grpc_unary_calls_are_charged_what_they_generated_and_refused_once_the_quota_is_spent()
    {
        var key = await KeyAsync(Limit);
        using var channel = Platform.GatewayChannel(key);
        var client = new InferenceService.InferenceServiceClient(channel);
        var first = await client.CompleteAsync(new CompleteRequest { Request = Request(16) });
        Assert.Equal(16, first.Result.Usage.CompletionTokens);
        // 4 of 20 left: still admitted, and it overdraws the bucket by 12.
        Assert.Equal(16, (await client.CompleteAsync(new CompleteRequest { Request = Request(16) })).Result.Usage.CompletionTokens);

        var refused = await Assert.ThrowsAsync<RpcException>(() => client.CompleteAsync(new CompleteRequest { Request = Request(1) }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("quota", refused.Status.Detail, StringComparison.Ordinal);
        var retryMs = long.Parse(refused.Trailers.GetValue("retry-after-ms")!, CultureInfo.InvariantCulture);
        Assert.Equal(refused.Trailers.GetValue("retry-after-ms"), refused.Trailers.GetValue("grpc-retry-pushback-ms"));
        AssertRetryHint(TimeSpan.FromMilliseconds(retryMs), overdrawn: 12);

        // The same key on /v1 is refused too (one quota per key), in OpenAI's shape with Retry-After.
        using var http = Platform.GatewayHttpClient(key);
        using var response = await http.PostAsJsonAsync("/v1/completions", new { prompt = "Count", max_tokens = 1 });
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("tokens_per_minute_exceeded", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        AssertRetryHint(response.Headers.RetryAfter!.Delta!.Value, overdrawn: 12);

        // Another key (the configured default) is served meanwhile.
        using var other = Platform.GatewayChannel(await KeyAsync(null));
        Assert.Equal(4, (await new InferenceService.InferenceServiceClient(other).CompleteAsync(new CompleteRequest { Request = Request(4) })).Result.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Streamed_generations_are_charged_on_grpc_and_on_v1()
    {
        // gRPC streaming: 25 tokens streamed, so the next call is refused.
        var grpcKey = await KeyAsync(Limit);
        using var channel = Platform.GatewayChannel(grpcKey);
        var client = new InferenceService.InferenceServiceClient(channel);
        var streamed = 0;
        using (var call = client.Generate(Request(25)))
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                streamed += message.Delta?.Tokens.Count ?? 0;
            }
        }

        Assert.Equal(25, streamed);
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = client.Generate(Request(1));
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        AssertRetryHint(TimeSpan.FromMilliseconds(long.Parse(refused.Trailers.GetValue("retry-after-ms")!, CultureInfo.InvariantCulture)), overdrawn: 5);

        // /v1 streaming (server-sent events, no usage requested): 25 tokens, then 429.
        var httpKey = await KeyAsync(Limit);
        using var http = Platform.GatewayHttpClient(httpKey);
        using (var stream = await http.PostAsJsonAsync("/v1/completions", new { prompt = "Count", max_tokens = 25, ignore_eos = true, temperature = 0, stream = true }))
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            Assert.EndsWith("data: [DONE]", (await stream.Content.ReadAsStringAsync()).TrimEnd(), StringComparison.Ordinal);
        }

        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 1 });
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        AssertRetryHint(response.Headers.RetryAfter!.Delta!.Value, overdrawn: 5);
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        _dir.Dispose();
    }
}
