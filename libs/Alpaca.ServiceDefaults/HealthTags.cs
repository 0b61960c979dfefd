namespace Alpaca.ServiceDefaults;

/// <summary>Tags that sort health checks into liveness (<c>/healthz</c>) and readiness (<c>/readyz</c>, gRPC health).</summary>
public static class HealthTags
{
    public const string Live = "live";
    public const string Ready = "ready";
}
