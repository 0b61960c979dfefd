namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// Section <c>Alpaca:Auth:Jwt</c>: bearer tokens from the platform's identity provider, accepted beside API keys
/// (docs/security.md, "JWT bearer tokens"). Off unless <see cref="Issuer"/> is set. Every host validates the token
/// itself (as it does a key), so the section goes to the gateway and every service alike.
/// </summary>
public sealed class JwtOptions
{
    /// <summary>The <c>iss</c> a token must carry; setting it turns JWT bearer tokens on.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> a token must carry (required when JWTs are on).</summary>
    public string? Audience { get; set; }

    /// <summary>OpenID Connect discovery: the provider's base URL (<c>/.well-known/openid-configuration</c> below it).</summary>
    public string? Authority { get; set; }

    /// <summary>The provider's JSON Web Key Set URL, for a provider without discovery (or instead of it).</summary>
    public string? JwksUrl { get; set; }

    /// <summary>A PEM file with the RSA or EC public key tokens are signed with (no key fetching at all).</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>False only for a provider on loopback or inside a trusted network: key sets fetched over plain HTTP.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// The claim carrying the caller's scopes: <c>scope</c> (OAuth 2.0, space-separated), <c>scp</c> (Entra ID,
    /// a string or an array), <c>roles</c> (an array). Values that are no Alpaca scope are ignored.
    /// </summary>
    public string ScopeClaim { get; set; } = "scope";

    /// <summary>A prefix the provider puts before each scope (<c>alpaca.</c> for <c>alpaca.inference</c>); stripped before parsing.</summary>
    public string ScopePrefix { get; set; } = "";

    /// <summary>The claim that identifies the caller (its rate-limit and quota partition, <c>jwt:VALUE</c>).</summary>
    public string SubjectClaim { get; set; } = "sub";

    /// <summary>Clock skew allowed on <c>exp</c>/<c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    internal bool Enabled => !string.IsNullOrWhiteSpace(Issuer);
}
