namespace Alpaca.ServiceDefaults.Auth;

/// <summary>Configuration section <c>Alpaca:Auth</c> (docs/security.md, "Identity and scopes").</summary>
public sealed class AuthOptions
{
    public const string Section = "Alpaca:Auth";

    /// <summary>Header carrying the shared service credential the gateway (and peer services) add.</summary>
    public const string ServiceTokenHeader = "x-alpaca-service-token";

    /// <summary>
    /// On by default. False only through an explicit choice (<c>alpaca up --insecure-no-auth</c>,
    /// <c>Alpaca__Auth__Enabled=false</c>): every caller then acts as admin, and the host logs a warning.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The shared service credential. When set, a service (not the gateway) refuses every call that lacks it,
    /// so a caller that reaches a service directly cannot skip the gateway; a call carrying it and no API key
    /// is a peer service's and may do anything.
    /// </summary>
    public string? ServiceToken { get; set; }

    /// <summary>Secret mixed into every key hash (HMAC-SHA256 key). Unset: a random pepper kept in the key store.</summary>
    public string? Pepper { get; set; }

    /// <summary>Where keys live: <c>local</c> or <c>redis</c>; unset: the service's <c>Alpaca:State:Store</c>.</summary>
    public string? Store { get; set; }

    /// <summary>Key folder of a local store, shared by every host of one platform.</summary>
    public string Path { get; set; } = System.IO.Path.Combine(".alpaca", "auth");

    /// <summary>Dapr's app API token (<c>APP_API_TOKEN</c>); when set, the Dapr app channel requires <c>dapr-api-token</c>.</summary>
    public string? AppApiToken { get; set; }

    /// <summary>JWT bearer tokens from an identity provider, beside API keys (off unless <c>Jwt:Issuer</c> is set).</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>
    /// Generated tokens per minute a caller may use (its key's own <c>TokensPerMinute</c> wins); 0 = unlimited.
    /// Counted by the inference service from what it generated (docs/security.md, "Token quotas").
    /// </summary>
    public int TokensPerMinute { get; set; }

    /// <summary>True on the gateway: clients call it without the service credential, which it adds when proxying.</summary>
    public bool IsEdge { get; set; }

    internal bool RequiresServiceToken => !IsEdge && !string.IsNullOrEmpty(ServiceToken);
}
