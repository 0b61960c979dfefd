using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.Generator.Api;
using Alpaca.Inference.Api;
using Alpaca.Platform.Tests.Platform;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.TestSupport;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Alpaca.Platform.Tests.Auth;

/// <summary>
/// Mutual TLS between the gateway and the services (<c>Alpaca:Tls</c>), with a throwaway authority made here and
/// real Kestrel on loopback: a service's gRPC port completes a TLS session only for a client certificate from the
/// configured authority (none, or one from another authority, fails at the TLS level, before any HTTP), and the
/// gateway reaches the services over it, gRPC and /v1 alike.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly TestAuthority _authority = new("alpaca-test-ca");
    private readonly TestAuthority _stranger = new("stranger-ca");
    private X509Certificate2? _peer;
    private X509Certificate2? _strangerPeer;
    private Dictionary<string, string?> _tls = [];
    private EmbeddedPlatform? _platform;

    private EmbeddedPlatform Platform => _platform!;

    public async Task InitializeAsync()
    {
        _peer = _authority.Issue("peer");
        _strangerPeer = _stranger.Issue("peer");
        var (certificate, key) = TestAuthority.WritePem(_authority.Issue("service"), _dir.Path, "service");
        _tls = new Dictionary<string, string?>
        {
            ["Alpaca:Tls:CertificateFile"] = certificate,
            ["Alpaca:Tls:KeyFile"] = key,
            ["Alpaca:Tls:CaFile"] = _authority.WriteBundle(_dir.File("ca.pem")),
        };
        _platform = await EmbeddedPlatform.StartAsync([DedupModule.Instance, InferenceModule.Instance, GeneratorModule.Instance], new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = _dir.File("state"),
            ExtraSettings = _tls,
            ServiceSettings = new Dictionary<string, IReadOnlyDictionary<string, string?>> { [InferenceModule.Name] = InferenceModule.ServeAtStart(TinyGguf.Write(_dir)) },
        });
        await InferenceModule.WaitForModelAsync(Platform.App(InferenceModule.Name), TimeSpan.FromSeconds(30));
    }

    private int ServicePort(string name) => Platform.Services[name].Grpc.Port;

    [Fact]
    public async Task A_service_port_opens_a_tls_session_only_for_a_client_certificate_from_its_authority()
    {
        Assert.Equal("https", Platform.Services["dedup"].Grpc.Scheme);
        foreach (var service in new[] { "dedup", "inference" })
        {
            Assert.True(await Http2SessionOpensAsync(ServicePort(service), _peer), $"{service}: the authority's certificate");
            Assert.False(await Http2SessionOpensAsync(ServicePort(service), null), $"{service}: no client certificate");
            Assert.False(await Http2SessionOpensAsync(ServicePort(service), _strangerPeer), $"{service}: another authority's certificate");
        }
    }

    [Fact]
    public async Task A_grpc_client_without_the_right_certificate_is_refused_before_any_call_reaches_the_service()
    {
        var address = Platform.Services["dedup"].Grpc;
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await HealthAsync(address, _peer)).Status);

        foreach (var certificate in new[] { null, _strangerPeer })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => HealthAsync(address, certificate));
            // No gRPC status from the service: the transport failed (TLS). Under TLS 1.3 the client learns of the refusal
            // at the handshake (UNAVAILABLE) or, when its request was already sent, while reading (INTERNAL).
            Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, refused.ToString());
            Assert.Contains(Chain(refused), e => e is AuthenticationException or IOException or HttpRequestException);
        }

        // Nor does plain h2c reach it.
        var plain = await Assert.ThrowsAsync<RpcException>(() => HealthAsync(new Uri($"http://127.0.0.1:{address.Port}"), null));
        Assert.NotEqual(StatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task The_gateway_reaches_the_services_over_mutual_tls_for_grpc_and_the_openai_api()
    {
        using var channel = Platform.GatewayChannel();
        var models = await new InferenceService.InferenceServiceClient(channel).ListModelsAsync(new ListModelsRequest());
        Assert.NotEmpty(models.Models);
        await new DedupService.DedupServiceClient(channel).ListNamespacesAsync(new ListNamespacesRequest());

        // /v1 goes to inference's TLS port over HTTP/2 (the HTTP port is left to the Dapr sidecar).
        var key = (await Platform.Keys!.CreateAsync("tls", [ApiScope.Inference])).Key;
        using var http = Platform.GatewayHttpClient(key);
        using var response = await http.PostAsJsonAsync("/v1/completions", new { prompt = "Hello", max_tokens = 4, temperature = 0 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        Assert.Equal("text_completion", JsonDocument.Parse(body).RootElement.GetProperty("object").GetString());
    }

    [Fact]
    public async Task The_generators_dedup_client_calls_dedup_over_mutual_tls()
    {
        // The generator's own client (its certificate and the service credential), as its runs use it.
        var client = Platform.App(GeneratorModule.Name).Services.GetRequiredService<DedupService.DedupServiceClient>();
        await client.ListNamespacesAsync(new ListNamespacesRequest());
        Assert.Equal("https", Platform.Services[DedupModule.Name].Grpc.Scheme);
    }

    [Fact]
    public async Task A_gateway_whose_certificate_comes_from_another_authority_is_refused_by_the_services()
    {
        var (certificate, key) = TestAuthority.WritePem(_stranger.Issue("gateway"), _dir.Path, "stranger-gateway");
        using var state = new TempDir();
        await using var platform = await EmbeddedPlatform.StartAsync([DedupModule.Instance], new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = state.Path,
            ExtraSettings = _tls,
            // It trusts the services' authority, but presents a certificate the services do not.
            GatewaySettings = new Dictionary<string, string?> { ["Alpaca:Tls:CertificateFile"] = certificate, ["Alpaca:Tls:KeyFile"] = key },
        });
        using var channel = platform.GatewayChannel();
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new DedupService.DedupServiceClient(channel).ListNamespacesAsync(new ListNamespacesRequest()));
        // YARP's 502 (UNAVAILABLE), or the stream reset while the refusal arrived (INTERNAL): never an answer.
        Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, refused.ToString());
    }

    private static async Task<HealthCheckResponse> HealthAsync(Uri address, X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (certificate is not null)
        {
            handler.SslOptions.ClientCertificates = [certificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }

        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
        return await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
    }

    /// <summary>
    /// A raw TLS 1.2 connection (where the server checks the client's certificate inside the handshake): true when
    /// the handshake completes and the server answers the HTTP/2 preface with a frame; false when the TLS layer
    /// refuses (handshake failure, or the connection closed before any HTTP/2 frame).
    /// </summary>
    private static async Task<bool> Http2SessionOpensAsync(int port, X509Certificate2? certificate)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, timeout.Token);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = SslProtocols.Tls12,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                ClientCertificates = certificate is null ? null : [certificate],
                LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
            }, timeout.Token);
            // The client preface and an empty SETTINGS frame; the server's first frame is its SETTINGS.
            var preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray().Concat(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }).ToArray();
            await tls.WriteAsync(preface, timeout.Token);
            var frame = new byte[9];
            return await tls.ReadAsync(frame, timeout.Token) > 0;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return false;
        }
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        _peer?.Dispose();
        _strangerPeer?.Dispose();
        _authority.Dispose();
        _stranger.Dispose();
        _dir.Dispose();
    }
}
