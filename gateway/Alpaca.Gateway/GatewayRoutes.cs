using Alpaca.Contracts.V1;
using Alpaca.ServiceDefaults.Auth;

namespace Alpaca.Gateway;

/// <summary>
/// The default YARP configuration, as configuration keys, so deployments override any part of it
/// through appsettings or environment variables (<c>ReverseProxy__Clusters__dedup__Destinations__d1__Address</c>).
/// Defaults point at the Kubernetes service names of the platform (<c>http://dedup:8080</c> …).
/// <list type="bullet">
/// <item>Each service's gRPC calls are routed by their service path (<c>/alpaca.v1.DedupService/…</c>) over h2c.</item>
/// <item>Health checking and reflection share one path for every service (<c>/grpc.health.v1.Health/…</c>), so the
/// caller names the service in the <c>x-alpaca-service</c> header; without it the gateway answers for itself.</item>
/// <item>The OpenAI-compatible HTTP API <c>/v1/…</c> goes to the inference service's HTTP/1.1 port.</item>
/// </list>
/// </summary>
public static class GatewayRoutes
{
    /// <summary>Header that selects the backend for the shared gRPC paths (health, reflection).</summary>
    public const string ServiceHeader = "x-alpaca-service";

    /// <summary>The backend services: name, gRPC service full name.</summary>
    public static readonly IReadOnlyList<(string Name, string GrpcService)> Services =
    [
        ("generator", GeneratorService.Descriptor.FullName),
        ("dedup", DedupService.Descriptor.FullName),
        ("trainer", TrainerService.Descriptor.FullName),
        ("inference", InferenceService.Descriptor.FullName),
    ];

    private static readonly string[] SharedGrpcPaths =
    [
        "/grpc.health.v1.Health/{**rest}",
        "/grpc.reflection.v1alpha.ServerReflection/{**rest}",
        "/grpc.reflection.v1.ServerReflection/{**rest}",
    ];

    /// <param name="tls">
    /// Mutual TLS to the services (<c>Alpaca:Tls</c>): every cluster is <c>https://</c> on the service's gRPC port,
    /// the only one that requires a client certificate, and so is <c>/v1</c> (inference serves it over HTTP/2 there
    /// too); the HTTP port stays the Dapr sidecar's (docs/security.md, "Mutual TLS").
    /// </param>
    public static Dictionary<string, string?> DefaultSettings(bool tls = false)
    {
        var scheme = tls ? "https" : "http";
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, grpcService) in Services)
        {
            var route = $"ReverseProxy:Routes:{name}";
            settings[$"{route}:ClusterId"] = name;
            settings[$"{route}:Match:Path"] = $"/{grpcService}/{{**rest}}";
            settings[$"{route}:RateLimiterPolicy"] = GatewayRateLimits.PolicyName;
            // The gateway authenticates (401 / UNAUTHENTICATED here, before anything is forwarded); the backend,
            // where each method's scope is declared, refuses a key of another scope.
            settings[$"{route}:AuthorizationPolicy"] = ApiScopes.AuthenticatedPolicy;
            // A gRPC stream's body is every message of the call (a StreamCandidates stream runs for a whole
            // generation run), so a body cap would cut long streams; each backend caps every message instead
            // (Alpaca:Limits:GrpcMaxReceiveMessageSize), as Grpc.AspNetCore does for its own calls. The HTTP
            // routes (/v1) keep the gateway's Alpaca:Limits:MaxRequestBodySize.
            settings[$"{route}:MaxRequestBodySize"] = "-1";

            for (var i = 0; i < SharedGrpcPaths.Length; i++)
            {
                var shared = $"ReverseProxy:Routes:{name}-shared-{i}";
                settings[$"{shared}:ClusterId"] = name;
                settings[$"{shared}:Order"] = "-1";
                settings[$"{shared}:Match:Path"] = SharedGrpcPaths[i];
                // Health answers without a key (probes carry none); reflection is admin.
                settings[$"{shared}:AuthorizationPolicy"] = i == 0 ? "anonymous" : ApiScope.Admin.PolicyName();
                settings[$"{shared}:Match:Headers:0:Name"] = ServiceHeader;
                settings[$"{shared}:Match:Headers:0:Values:0"] = name;
                settings[$"{shared}:Match:Headers:0:Mode"] = "ExactHeader";
            }

            var cluster = $"ReverseProxy:Clusters:{name}";
            settings[$"{cluster}:LoadBalancingPolicy"] = "PowerOfTwoChoices";
            settings[$"{cluster}:HttpRequest:Version"] = "2";
            settings[$"{cluster}:HttpRequest:VersionPolicy"] = "RequestVersionExact";
            // Token streams and training watches are long-lived; do not cut them.
            settings[$"{cluster}:HttpRequest:ActivityTimeout"] = "01:00:00";
            AddHealthChecks(settings, cluster);
            settings[$"{cluster}:Destinations:d1:Address"] = $"{scheme}://{name}:8080";
        }

        // OpenAI-compatible HTTP API of the inference service (HTTP/1.1 port).
        settings["ReverseProxy:Routes:openai:ClusterId"] = "inference-http";
        settings["ReverseProxy:Routes:openai:Match:Path"] = "/v1/{**rest}";
        settings["ReverseProxy:Routes:openai:RateLimiterPolicy"] = GatewayRateLimits.PolicyName;
        settings["ReverseProxy:Routes:openai:AuthorizationPolicy"] = ApiScopes.AuthenticatedPolicy;
        settings["ReverseProxy:Clusters:inference-http:HttpRequest:ActivityTimeout"] = "01:00:00";
        AddHealthChecks(settings, "ReverseProxy:Clusters:inference-http");
        if (tls)
        {
            settings["ReverseProxy:Clusters:inference-http:HttpRequest:Version"] = "2";
            settings["ReverseProxy:Clusters:inference-http:HttpRequest:VersionPolicy"] = "RequestVersionExact";
        }

        settings["ReverseProxy:Clusters:inference-http:Destinations:d1:Address"] = tls ? "https://inference:8080" : "http://inference:8081";
        return settings;
    }

    private static void AddHealthChecks(Dictionary<string, string?> settings, string cluster)
    {
        settings[$"{cluster}:HealthCheck:Active:Enabled"] = "true";
        settings[$"{cluster}:HealthCheck:Active:Interval"] = "00:00:05";
        settings[$"{cluster}:HealthCheck:Active:Timeout"] = "00:00:02";
        settings[$"{cluster}:HealthCheck:Active:Policy"] = "ConsecutiveFailures";
        settings[$"{cluster}:HealthCheck:Active:Path"] = "/healthz";
        settings[$"{cluster}:HealthCheck:Passive:Enabled"] = "true";
        settings[$"{cluster}:HealthCheck:Passive:Policy"] = "TransportFailureRate";
        settings[$"{cluster}:HealthCheck:Passive:ReactivationPeriod"] = "00:00:05";
    }
}
