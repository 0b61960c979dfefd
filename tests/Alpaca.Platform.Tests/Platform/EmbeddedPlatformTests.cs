using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.Gateway;
using Alpaca.Inference.Api;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Platform.Tests.Platform;

/// <summary>The embedded platform in this process: gateway routing, health, metrics and honest errors.</summary>
public sealed class EmbeddedPlatformTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private EmbeddedPlatform? _platform;

    private EmbeddedPlatform Platform => _platform!;

    // Inference is ready only with a model, so the platform starts with a tiny one (as `alpaca up --model`).
    public async Task InitializeAsync()
    {
        _platform = await EmbeddedPlatform.StartAsync(EveryService.Modules, new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = _dir.Path,
            ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>> { [InferenceModule.Name] = InferenceModule.ServeAtStart(TinyGguf.Write(_dir)) },
        });
        await InferenceModule.WaitForModelAsync(_platform.App(InferenceModule.Name), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Status_turns_non_zero_when_a_service_stops_serving()
    {
        var healthy = await PlatformHealth.CheckAllAsync(Platform.GatewayGrpc, TimeSpan.FromSeconds(5), default);
        Assert.All(healthy, r => Assert.Equal("SERVING", r.Status));

        await Platform.App(DedupModule.Name).StopAsync();
        var rows = await PlatformHealth.CheckAllAsync(Platform.GatewayGrpc, TimeSpan.FromSeconds(5), default);
        Assert.NotEqual("SERVING", rows.Single(r => r.Service == "dedup").Status);
        Assert.Equal("SERVING", rows.Single(r => r.Service == "generator").Status);
    }

    [Fact]
    public async Task A_bad_request_through_the_gateway_gets_the_services_status_and_message()
    {
        using var channel = Platform.GatewayChannel();
        var trainer = new TrainerService.TrainerServiceClient(channel);
        var ex = await Assert.ThrowsAsync<RpcException>(() => trainer.SubmitJobAsync(new SubmitJobRequest()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("spec", ex.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Every_service_exposes_liveness_readiness_and_prometheus_metrics_on_its_http_port()
    {
        using var http = new HttpClient();
        foreach (var (name, (_, httpUri)) in Platform.Services)
        {
            Assert.Equal("Healthy", await http.GetStringAsync(new Uri(httpUri, "/healthz")));
            Assert.Equal("Healthy", await http.GetStringAsync(new Uri(httpUri, "/readyz")));
            // Metrics are an operator's (the HTTP port also serves /v1 and Dapr): a scraper sends the service credential.
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri(httpUri, "/metrics"))).StatusCode);
            using var scrape = new HttpRequestMessage(HttpMethod.Get, new Uri(httpUri, "/metrics"));
            scrape.Headers.Add(Alpaca.ServiceDefaults.Auth.AuthOptions.ServiceTokenHeader, Platform.ServiceToken);
            var metrics = await (await http.SendAsync(scrape)).EnsureSuccessStatusCode().Content.ReadAsStringAsync();
            Assert.Contains("# TYPE", metrics, StringComparison.Ordinal);
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_gateway_serves_inference_over_grpc_and_the_openai_api_under_v1()
    {
        using var channel = Platform.GatewayChannel();
        var inference = new InferenceService.InferenceServiceClient(channel);
        using var call = inference.Generate(new GenerateRequest
        {
            Prompt = "Once upon a time",
            Sampling = new SamplingParameters { Temperature = 0 },
            Stopping = new StoppingCriteria { MaxTokens = 8, IgnoreEos = true },
        });
        var messages = new List<GenerateResponse>();
        await foreach (var m in call.ResponseStream.ReadAllAsync())
        {
            messages.Add(m);
        }

        Assert.Equal(8, messages[^1].Result.Usage.CompletionTokens);

        using var http = Platform.GatewayHttpClient();
        var models = await http.GetStringAsync("/v1/models");
        Assert.Contains("\"id\":\"tiny\"", models, StringComparison.Ordinal);
        using var reply = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stream":true}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, reply.StatusCode);
        var sse = await reply.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", sse, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_service_paths_get_a_clear_grpc_error_at_the_gateway()
    {
        using var channel = Platform.GatewayChannel();
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        var headers = new Metadata { { GatewayRoutes.ServiceHeader, "no-such-service" } };
        // Without a matching backend header the gateway answers for itself.
        var reply = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), headers);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
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
