using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api;
using Alpaca.Inference.Api;
using Alpaca.TestSupport;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Alpaca.Platform.Tests.Auth;

/// <summary>
/// JWT bearer tokens beside API keys, over real sockets: the identity provider is a loopback Kestrel host serving
/// a JSON Web Key Set of a test RSA key; tokens are signed with it (or, for the bad-signature case, with another
/// key under the same key id). Gateway and services each validate the token, as they do a key.
/// </summary>
public sealed class JwtAuthTests : IAsyncLifetime
{
    private const string Issuer = "https://idp.test/";
    private const string Audience = "alpaca";
    private readonly RSA _signing = RSA.Create(2048);
    private readonly RSA _stranger = RSA.Create(2048);
    private readonly TempDir _dir = new();
    private WebApplication? _idp;
    private EmbeddedPlatform? _platform;
    private int _jwksFetches;

    private EmbeddedPlatform Platform => _platform!;

    public async Task InitializeAsync()
    {
        _idp = WebApplication.CreateSlimBuilder().Build();
        _idp.Urls.Add("http://127.0.0.1:0");
        var jwks = Jwks(_signing);
        _idp.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref _jwksFetches);
            return Results.Text(jwks, "application/json");
        });
        await _idp.StartAsync();
        var jwksUrl = new Uri(new Uri(_idp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()), "/jwks").ToString();

        var jwt = new Dictionary<string, string?>
        {
            ["Alpaca:Auth:Jwt:Issuer"] = Issuer,
            ["Alpaca:Auth:Jwt:Audience"] = Audience,
            ["Alpaca:Auth:Jwt:JwksUrl"] = jwksUrl,
            ["Alpaca:Auth:Jwt:RequireHttpsMetadata"] = "false",
        };
        _platform = await EmbeddedPlatform.StartAsync([DedupModule.Instance, InferenceModule.Instance], new EmbeddedPlatformOptions
        {
            GatewayPort = 0,
            GatewayHttpPort = 0,
            StateDirectory = _dir.Path,
            ExtraSettings = jwt,
            GatewaySettings = jwt,
        });
    }

    private string Token(object? scope, RSA? key = null, string audience = Audience, string issuer = Issuer, TimeSpan? expiresIn = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(10));
        var claims = new Dictionary<string, object> { ["sub"] = "alice" };
        if (scope is not null)
        {
            claims["scope"] = scope;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expires - TimeSpan.FromMinutes(20),
            NotBefore = expires - TimeSpan.FromMinutes(20),
            Expires = expires,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? _signing) { KeyId = "test-key" }, SecurityAlgorithms.RsaSha256),
        });
    }

    private static string Jwks(RSA rsa)
    {
        var p = rsa.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = "test-key", n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) } },
        });
    }

    private async Task<StatusCode> DedupStatusAsync(string token)
    {
        using var channel = Platform.GatewayChannel(token);
        try
        {
            await new DedupService.DedupServiceClient(channel).GetNamespaceAsync(new GetNamespaceRequest { Namespace = "jwt" });
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private async Task<StatusCode> ListModelsStatusAsync(string token)
    {
        using var channel = Platform.GatewayChannel(token);
        try
        {
            await new InferenceService.InferenceServiceClient(channel).ListModelsAsync(new ListModelsRequest());
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    [Fact]
    public async Task A_valid_token_is_allowed_what_its_scope_claim_grants_and_refused_the_rest()
    {
        var data = Token("data");
        // Through the gateway to dedup: authenticated and in scope, so the service answers (no such namespace).
        Assert.Equal(StatusCode.NotFound, await DedupStatusAsync(data));
        Assert.Equal(StatusCode.PermissionDenied, await ListModelsStatusAsync(data));

        using var http = Platform.GatewayHttpClient(data);
        using var forbidden = await http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("insufficient_scope", JsonDocument.Parse(await forbidden.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());

        // Space-separated (OAuth 2.0 `scope`) and an array (as `scp`/`roles` carry them) both work.
        Assert.Equal(StatusCode.OK, await ListModelsStatusAsync(Token("inference data")));
        using var both = Platform.GatewayHttpClient(Token(new[] { "inference" }));
        Assert.Equal(HttpStatusCode.OK, (await both.GetAsync("/v1/models")).StatusCode);

        // A token with no Alpaca scope is authenticated but may do nothing; API keys keep working beside tokens.
        Assert.Equal(StatusCode.PermissionDenied, await DedupStatusAsync(Token("openid profile")));
        Assert.Equal(StatusCode.NotFound, await DedupStatusAsync(Platform.AdminKey!));
        Assert.True(Volatile.Read(ref _jwksFetches) >= 1, "the key set was never fetched from the identity provider");
    }

    [Fact]
    public async Task Expired_badly_signed_wrong_audience_and_wrong_issuer_tokens_are_UNAUTHENTICATED()
    {
        var bad = new Dictionary<string, string>
        {
            ["expired"] = Token("data admin", expiresIn: TimeSpan.FromHours(-1)),
            ["signature"] = Token("data admin", key: _stranger),
            ["audience"] = Token("data admin", audience: "someone-else"),
            ["issuer"] = Token("data admin", issuer: "https://evil.test/"),
            ["garbage"] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",
        };
        foreach (var (what, token) in bad)
        {
            Assert.True(StatusCode.Unauthenticated == await DedupStatusAsync(token), $"{what}: gRPC");
            using var http = Platform.GatewayHttpClient(token);
            using var response = await http.GetAsync("/v1/models");
            Assert.True(HttpStatusCode.Unauthorized == response.StatusCode, $"{what}: HTTP {response.StatusCode}");
            Assert.Equal("invalid_api_key", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        }

        // The same token, in date and signed by the provider's key, is accepted: the refusals were about the token.
        Assert.Equal(StatusCode.NotFound, await DedupStatusAsync(Token("data admin")));
    }

    [Fact]
    public async Task A_token_sent_straight_to_a_service_without_the_service_credential_is_refused()
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(Platform.Services[DedupModule.Name].Grpc, new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new Alpaca.ServiceDefaults.Auth.BearerKeyHandler(Token("data admin")),
        });
        var ex = await Assert.ThrowsAsync<RpcException>(() => new DedupService.DedupServiceClient(channel).GetNamespaceAsync(new GetNamespaceRequest { Namespace = "jwt" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }

        if (_idp is not null)
        {
            await _idp.DisposeAsync();
        }

        _signing.Dispose();
        _stranger.Dispose();
        _dir.Dispose();
    }
}
