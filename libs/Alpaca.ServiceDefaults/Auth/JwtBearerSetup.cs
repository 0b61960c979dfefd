using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// JWT bearer tokens (<c>Alpaca:Auth:Jwt</c>) through ASP.NET Core's JwtBearer handler. It is not a scheme a
/// route names: <see cref="ApiKeyAuthenticationHandler"/> hands it every bearer value that is not an API key,
/// so the service credential rule and the scope claims stay in one place.
/// </summary>
internal static class JwtBearerSetup
{
    public const string SchemeName = "AlpacaJwt";

    public static void Add(AuthenticationBuilder builder, JwtOptions jwt)
    {
        if (!jwt.Enabled)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(jwt.Audience))
        {
            throw new InvalidOperationException("Alpaca:Auth:Jwt:Audience must be set with Alpaca:Auth:Jwt:Issuer.");
        }

        if (string.IsNullOrWhiteSpace(jwt.Authority) && string.IsNullOrWhiteSpace(jwt.JwksUrl) && string.IsNullOrWhiteSpace(jwt.SigningKeyFile))
        {
            throw new InvalidOperationException("Alpaca:Auth:Jwt needs Authority, JwksUrl or SigningKeyFile to verify token signatures.");
        }

        builder.AddJwtBearer(SchemeName, o =>
        {
            // Claims keep their JWT names (scope, scp, roles, sub), which is what ScopeClaim/SubjectClaim name.
            o.MapInboundClaims = false;
            o.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = jwt.Issuer,
                ValidAudience = jwt.Audience,
                ValidateIssuer = true,
                ValidateAudience = true,
                ValidateLifetime = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ValidateIssuerSigningKey = true,
                ClockSkew = jwt.ClockSkew,
            };
            if (!string.IsNullOrWhiteSpace(jwt.SigningKeyFile))
            {
                o.TokenValidationParameters.IssuerSigningKeys = [ReadKey(jwt.SigningKeyFile)];
            }
            else if (!string.IsNullOrWhiteSpace(jwt.JwksUrl))
            {
                // A bare key set (no discovery document): fetched, cached and refreshed by the configuration manager,
                // which also refetches when a token names a key id it has not seen (the provider rotated its keys).
                o.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                    jwt.JwksUrl, new JwksRetriever(jwt.Issuer!), new HttpDocumentRetriever { RequireHttps = jwt.RequireHttpsMetadata });
            }
            else
            {
                o.Authority = jwt.Authority;
            }
        });
    }

    /// <summary>The Alpaca scopes a validated token grants: the values of the scope claim, split on spaces, prefix stripped.</summary>
    public static IReadOnlyList<ApiScope> Scopes(ClaimsPrincipal principal, JwtOptions jwt)
    {
        var scopes = new List<ApiScope>();
        foreach (var value in principal.FindAll(jwt.ScopeClaim).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            var name = value.StartsWith(jwt.ScopePrefix, StringComparison.Ordinal) ? value[jwt.ScopePrefix.Length..] : null;
            foreach (var scope in ApiScopes.All.Where(s => s.Name() == name && !scopes.Contains(s)))
            {
                scopes.Add(scope);
            }
        }

        return scopes;
    }

    private static SecurityKey ReadKey(string file)
    {
        var pem = File.ReadAllText(file);
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
    }

    /// <summary>Reads a JWKS document as an OpenID configuration that has only signing keys (and the configured issuer).</summary>
    private sealed class JwksRetriever(string issuer) : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var json = await retriever.GetDocumentAsync(address, cancel).ConfigureAwait(false);
            var configuration = new OpenIdConnectConfiguration { Issuer = issuer, JsonWebKeySet = new JsonWebKeySet(json) };
            foreach (var key in configuration.JsonWebKeySet.GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }

            return configuration;
        }
    }
}
