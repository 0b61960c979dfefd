using System.Globalization;
using System.Net;
using Alpaca.Dedup.Api;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Auth;

/// <summary>
/// The Prometheus port (<c>Alpaca:Service:MetricsPort</c>), over real sockets: a scraper reads <c>/metrics</c> there
/// without a key, the port serves nothing but metrics and health, and the API ports no longer serve
/// <c>/metrics</c> to anyone, key or not.
/// </summary>
public sealed class MetricsPortTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly int _serviceMetrics = FreePort.Next();
    private readonly int _gatewayMetrics = FreePort.Next();
    private EmbeddedPlatform? _platform;

    private EmbeddedPlatform Platform => _platform!;

    public async Task InitializeAsync() =>
        _platform = await EmbeddedPlatform.StartAsync([DedupModule.Instance], new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = _dir.Path,
            ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>>
            {
                [DedupModule.Name] = new Dictionary<string, string?> { ["Alpaca:Service:MetricsPort"] = _serviceMetrics.ToString(CultureInfo.InvariantCulture) },
            },
            GatewaySettings = new Dictionary<string, string?> { ["Alpaca:Service:MetricsPort"] = _gatewayMetrics.ToString(CultureInfo.InvariantCulture) },
        });

    [Fact]
    public async Task A_scraper_reads_metrics_on_the_metrics_port_without_a_key()
    {
        using var http = new HttpClient();
        foreach (var port in new[] { _serviceMetrics, _gatewayMetrics })
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("# TYPE ", body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/healthz")).StatusCode);
        }
    }

    [Fact]
    public async Task The_metrics_port_serves_nothing_but_metrics_and_health()
    {
        using var admin = Platform.GatewayHttpClient();
        foreach (var port in new[] { _serviceMetrics, _gatewayMetrics })
        {
            foreach (var path in new[] { "/v1/models", "/dapr/subscribe", "/console/", "/metrics/x", "/" })
            {
                Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"http://127.0.0.1:{port}{path}")).StatusCode);
            }
        }

        // gRPC does not reach the services through it either (HTTP/1.1 only, and the path is refused).
        using var grpc = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_serviceMetrics}/alpaca.v1.DedupService/ListNamespaces");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.SendAsync(grpc)).StatusCode);
    }

    [Fact]
    public async Task The_api_ports_do_not_serve_metrics_to_anyone()
    {
        using var anonymous = new HttpClient();
        using var admin = Platform.GatewayHttpClient();
        using var peer = Platform.GatewayHttpClient();
        peer.DefaultRequestHeaders.Add(ServiceDefaults.Auth.AuthOptions.ServiceTokenHeader, Platform.ServiceToken);
        foreach (var address in new[] { Platform.GatewayHttp, Platform.Services[DedupModule.Name].Http })
        {
            var url = new Uri(address, "/metrics");
            foreach (var client in new[] { anonymous, admin, peer })
            {
                using var response = await client.GetAsync(url);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.DoesNotContain("# TYPE ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
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
