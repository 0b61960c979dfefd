namespace Alpaca.ServiceDefaults;

/// <summary>Configuration section <c>Alpaca:Service</c> (environment: <c>Alpaca__Service__GrpcPort</c> …).</summary>
public sealed class ServiceHostOptions
{
    /// <summary>HTTP/2 cleartext (h2c) port for gRPC; 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 8080;

    /// <summary>HTTP/1.1 port for Dapr's app channel, /healthz, /readyz (and /metrics without a <see cref="MetricsPort"/>); 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 8081;

    /// <summary>
    /// The Prometheus port (docs/security.md, "Metrics"): when set, <c>/metrics</c> is served there without a key
    /// (with <c>/healthz</c> and <c>/readyz</c>, and nothing else) and no longer on the HTTP port. Unset:
    /// <c>/metrics</c> is on the HTTP port and needs the admin scope. Containers set 9464.
    /// </summary>
    public int? MetricsPort { get; set; }

    /// <summary>Address to bind. Loopback by default; containers set 0.0.0.0.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary><c>simple</c> (default) or <c>json</c> structured console logs.</summary>
    public string LogFormat { get; set; } = "simple";

    /// <summary>How long shutdown waits for in-flight calls to finish.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
