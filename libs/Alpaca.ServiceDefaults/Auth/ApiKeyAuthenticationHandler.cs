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

        var bearer = header["Bearer ".Length..].Trim();
        if (auth.Jwt.Enabled && !bearer.StartsWith(ApiKeyStore.Prefix, StringComparison.Ordinal))
        {
            return await JwtAsync().ConfigureAwait(false);
        }

        var store = (ApiKeyStore)services.GetService(typeof(ApiKeyStore))!;
        var record = await store.ValidateAsync(bearer, Context.RequestAborted).ConfigureAwait(false);
        return record is null
            ? AuthenticateResult.Fail("Invalid or revoked API key.")
            : Success(record.Id, record.Name, record.Scopes, record.TokensPerMinute);
    }

    // Anything but an API key is a JWT: the JwtBearer handler checks signature, issuer, audience and lifetime,
    // and the token's scope claim becomes the same scope claims a key carries, so every route's check is the same.
    private async Task<AuthenticateResult> JwtAsync()
    {
        var result = await Context.AuthenticateAsync(JwtBearerSetup.SchemeName).ConfigureAwait(false);
        if (!result.Succeeded || result.Principal is not { } principal)
        {
            // The failure's text says which check failed (expired, signature, audience) without echoing the token.
            return AuthenticateResult.Fail("Invalid bearer token" + (result.Failure is { } f ? ": " + f.GetType().Name.Replace("SecurityToken", "", StringComparison.Ordinal).Replace("Exception", "", StringComparison.Ordinal) : "") + ".");
        }

        var subject = principal.FindFirst(auth.Jwt.SubjectClaim)?.Value;
        if (string.IsNullOrEmpty(subject))
        {
            return AuthenticateResult.Fail($"The bearer token has no '{auth.Jwt.SubjectClaim}' claim.");
        }

        return Success("jwt:" + subject, subject, JwtBearerSetup.Scopes(principal, auth.Jwt), null);
    }

    private AuthenticateResult Success(string id, string name, IEnumerable<ApiScope> scopes, int? tokensPerMinute = null)
    {
        var claims = new List<Claim> { new(ApiScopes.KeyIdClaimType, id), new(ClaimTypes.Name, name) };
        claims.AddRange(scopes.Select(s => new Claim(ApiScopes.ClaimType, s.Name())));
        if (tokensPerMinute is { } limit)
        {
            claims.Add(new Claim(ApiScopes.TokensPerMinuteClaimType, limit.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}
