using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// <c>Authorization: Bearer KEY</c> (gRPC metadata <c>authorization</c> is the same header, and it is what the
/// OpenAI SDKs send for their <c>api_key</c>) and the shared service credential. On a service that has a
/// service token, a call without it is refused whatever key it carries: only the gateway and peers reach it.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AuthOptions auth,
    IServiceProvider services) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AlpacaApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!auth.Enabled)
        {
            return Success("insecure", "insecure-no-auth", ApiScopes.All);
        }

        var trusted = !string.IsNullOrEmpty(auth.ServiceToken) && !auth.IsEdge
            && Request.Headers[AuthOptions.ServiceTokenHeader].FirstOrDefault() is { } token
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(auth.ServiceToken));
        if (auth.RequiresServiceToken && !trusted)
        {
            return AuthenticateResult.Fail("This service accepts calls only through the gateway (service credential missing).");
        }

        var header = Request.Headers.Authorization.FirstOrDefault();
        if (string.IsNullOrEmpty(header))
        {
            return trusted ? Success("service", "service", ApiScopes.All) : AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("Use Authorization: Bearer <api key>.");
        }

        var store = (ApiKeyStore)services.GetService(typeof(ApiKeyStore))!;
        var record = await store.ValidateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted).ConfigureAwait(false);
        return record is null
            ? AuthenticateResult.Fail("Invalid or revoked API key.")
            : Success(record.Id, record.Name, record.Scopes);
    }

    private AuthenticateResult Success(string id, string name, IEnumerable<ApiScope> scopes)
    {
        var claims = new List<Claim> { new(ApiScopes.KeyIdClaimType, id), new(ClaimTypes.Name, name) };
        claims.AddRange(scopes.Select(s => new Claim(ApiScopes.ClaimType, s.Name())));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}
