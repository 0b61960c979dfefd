using System.Net;
using System.Text;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Inference.Api;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Platform.Tests.Platform;

/// <summary>
/// The gateway's body limit (Alpaca:Limits:MaxRequestBodySize) over real sockets: a /v1 body over it is a 413 in the
/// OpenAI error shape from the gateway itself, declared or chunked; one under it reaches the inference service; gRPC
/// calls are capped per message by the backend, not by the gateway's body limit.
/// </summary>
public sealed class GatewayBodyLimitTests : IAsyncLifetime
{
    private const int Limit = 64 * 1024;

    private readonly TempDir _dir = new();
    private EmbeddedPlatform? _platform;

    public async Task InitializeAsync() => _platform = await EmbeddedPlatform.StartAsync([InferenceModule.Instance], new EmbeddedPlatformOptions
    {
        GatewayPort = 0,
        GatewayHttpPort = 0,
        StateDirectory = _dir.Path,
        GatewaySettings = new Dictionary<string, string?> { ["Alpaca:Limits:MaxRequestBodySize"] = $"{Limit}" },
    });

    private static string Chat(int bytes)
    {
        var head = """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""";
        return new string(' ', bytes - head.Length) + head; // JSON allows leading whitespace
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_from_the_gateway_and_one_under_it_is_forwarded()
    {
        using var http = _platform!.GatewayHttpClient();

        foreach (var chunked in new[] { false, true })
        {
            var (status, body) = await OversizedBody.PostAsync(_platform.GatewayHttp, "/v1/chat/completions", Limit, chunked, _platform.AdminKey);
            Assert.Equal(413, status);
            using var error = JsonDocument.Parse(body);
            var e = error.RootElement.GetProperty("error");
            Assert.Equal("invalid_request_error", e.GetProperty("type").GetString());
            Assert.Equal("request_too_large", e.GetProperty("code").GetString());
            Assert.Equal($"The request body exceeds the gateway's limit of {Limit} bytes (Alpaca:Limits:MaxRequestBodySize).", e.GetProperty("message").GetString());
        }

        // Just under: forwarded, and the inference service answers (no model is loaded: 404 for 'tiny').
        using var under = await http.PostAsync("/v1/chat/completions", new StringContent(Chat(Limit - 16), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, under.StatusCode);
        Assert.Contains("Model 'tiny' is not loaded", await under.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_grpc_call_larger_than_the_http_body_limit_still_reaches_its_backend()
    {
        using var channel = _platform!.GatewayChannel();
        var inference = new InferenceService.InferenceServiceClient(channel);
        var e = await Assert.ThrowsAsync<RpcException>(() => inference.TokenizeAsync(new TokenizeRequest { Text = new string('t', 4 * Limit) }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode); // the service's answer: no model is loaded
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
