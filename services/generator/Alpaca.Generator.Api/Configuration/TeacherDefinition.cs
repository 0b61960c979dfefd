namespace Alpaca.Generator.Api.Configuration;

/// <summary>
/// One teacher the operator configured: <c>Alpaca:Generator:Teachers:{name}</c> (environment:
/// <c>Alpaca__Generator__Teachers__openai__BaseUrl</c> …). A run names it; the key it sends comes only from
/// <see cref="ApiKeyEnv"/> or <see cref="ApiKeyFile"/>, which the operator sets, never a caller.
/// </summary>
public sealed class TeacherDefinition
{
    /// <summary>Base URL including the version segment, e.g. <c>https://api.openai.com/v1</c>.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Model sent with every request; empty lets the run name one.</summary>
    public string Model { get; set; } = "";

    /// <summary><c>completions</c> (default) or <c>chat</c>.</summary>
    public string Api { get; set; } = "completions";

    /// <summary>Environment variable of the service holding the key (a secret mounted as an env var).</summary>
    public string? ApiKeyEnv { get; set; }

    /// <summary>File holding the key (a mounted secret); wins over <see cref="ApiKeyEnv"/>.</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>This teacher may be reached on loopback/private/link-local addresses (an in-cluster teacher).</summary>
    public bool AllowPrivateAddresses { get; set; }
}
