namespace Alpaca.Platform;

/// <summary>How <see cref="EmbeddedPlatform"/> runs the services in one process.</summary>
public sealed record EmbeddedPlatformOptions
{
    /// <summary>Gateway gRPC (h2c) port; 0 picks a free one.</summary>
    public int GatewayPort { get; init; } = 5080;

    /// <summary>Gateway HTTP/1.1 port (OpenAI-compatible API, web, metrics); 0 picks a free one.</summary>
    public int GatewayHttpPort { get; init; } = 5081;

    /// <summary>Redis HOST:PORT for Redis Streams and Redis state; null = in-process bus and local folder.</summary>
    public string? Redis { get; init; }

    /// <summary>Local state folder (embedded default); each service keeps its state in a sub-folder named after it.</summary>
    public string StateDirectory { get; init; } = Path.Combine(".alpaca", "state");

    /// <summary>Extra configuration for the gateway (rate limits, routes).</summary>
    public IReadOnlyDictionary<string, string?> GatewaySettings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Extra configuration for every service host.</summary>
    public IReadOnlyDictionary<string, string?> ExtraSettings { get; init; } = new Dictionary<string, string?>();

    /// <summary>
    /// Turns authentication off for every host (<c>alpaca up --insecure-no-auth</c>): every caller acts as admin.
    /// Off by default: keys live in <c>STATE/auth</c> (or Redis), the first start creates an admin key.
    /// </summary>
    public bool InsecureNoAuth { get; init; }

    /// <summary>Extra configuration for one service host, by service name (e.g. the model inference loads at start).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string?>> ServiceSettings { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, string?>>();
}
