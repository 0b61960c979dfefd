using System.Text.Json.Serialization;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// What an API key may do (docs/security.md, "Scopes"). <see cref="Admin"/> includes every other scope: an
/// operator's key can do anything a narrower key can.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ApiScope>))]
public enum ApiScope
{
    /// <summary>Generate, complete, tokenize, list models, the OpenAI API on <c>/v1</c>.</summary>
    Inference,

    /// <summary>The generator and the dedup service.</summary>
    Data,

    /// <summary>The trainer.</summary>
    Training,

    /// <summary>Load, unload and make-default models, keys, deleting namespaces, reflection, metrics.</summary>
    Admin,
}

/// <summary>Names of scopes and of the authorization policies that require them.</summary>
public static class ApiScopes
{
    /// <summary>Claim type carrying one scope of the caller.</summary>
    public const string ClaimType = "alpaca:scope";

    /// <summary>Claim type carrying the caller's key id (the rate limiter's partition).</summary>
    public const string KeyIdClaimType = "alpaca:key_id";

    /// <summary>Claim type carrying the key's own generated-tokens-per-minute quota (absent: the configured default).</summary>
    public const string TokensPerMinuteClaimType = "alpaca:tokens_per_minute";

    /// <summary>Policy for any authenticated caller (the gateway's routes; the backend checks the scope).</summary>
    public const string AuthenticatedPolicy = "alpaca:authenticated";

    public static readonly IReadOnlyList<ApiScope> All = Enum.GetValues<ApiScope>();

    public static string Name(this ApiScope scope) => scope.ToString().ToLowerInvariant();

    public static string PolicyName(this ApiScope scope) => "alpaca:scope:" + scope.Name();

    /// <summary>Parses <c>inference,data</c>; throws on an unknown name.</summary>
    public static IReadOnlyList<ApiScope> Parse(string list)
    {
        var scopes = new List<ApiScope>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<ApiScope>(part, ignoreCase: true, out var scope) || !Enum.IsDefined(scope) || int.TryParse(part, out _))
            {
                throw new ArgumentException($"Unknown scope '{part}': use {string.Join(", ", All.Select(s => s.Name()))}.", nameof(list));
            }

            if (!scopes.Contains(scope))
            {
                scopes.Add(scope);
            }
        }

        return scopes;
    }
}
