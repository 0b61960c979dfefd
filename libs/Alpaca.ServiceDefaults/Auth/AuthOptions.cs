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

    /// <summary>True on the gateway: clients call it without the service credential, which it adds when proxying.</summary>
    public bool IsEdge { get; set; }

    internal bool RequiresServiceToken => !IsEdge && !string.IsNullOrEmpty(ServiceToken);
}
