namespace Alpaca.Cli.Platform;

/// <summary>How <c>alpaca up</c> runs the platform in one process.</summary>
public sealed record EmbeddedPlatformOptions
{
    /// <summary>Gateway gRPC (h2c) port; 0 picks a free one.</summary>
    public int GatewayPort { get; init; } = 5080;

    /// <summary>Gateway HTTP/1.1 port (OpenAI-compatible API, web, metrics); 0 picks a free one.</summary>
    public int GatewayHttpPort { get; init; } = 5081;

    /// <summary>Redis HOST:PORT for Redis Streams and Redis state; null = in-process bus and local folder.</summary>
    public string? Redis { get; init; }

    /// <summary>Local state folder (embedded default).</summary>
    public string StateDirectory { get; init; } = Path.Combine(".alpaca", "state");

    /// <summary>Extra configuration for the gateway (rate limits, routes).</summary>
    public IReadOnlyDictionary<string, string?> GatewaySettings { get; init; } = new Dictionary<string, string?>();

    /// <summary>A GGUF file the inference service loads at start (its default model); null = none.</summary>
    public string? Model { get; init; }

    /// <summary>Extra configuration for every service host (e.g. a model to load).</summary>
    public IReadOnlyDictionary<string, string?> ExtraSettings { get; init; } = new Dictionary<string, string?>();
}
