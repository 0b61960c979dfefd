using System.Net;
using Alpaca.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Alpaca.ServiceDefaults;

/// <summary>
/// The service shell in the manner of eShop's ServiceDefaults: each host calls
/// <see cref="AddServiceDefaults"/> and <see cref="MapDefaultEndpoints"/> around its own registrations.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Kestrel with one h2c port for gRPC and one HTTP/1.1 port for Dapr, health and metrics; gRPC with
    /// health checking and reflection; OpenTelemetry traces and metrics (Prometheus, and OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set); structured logs. Nothing else: as in eShop, state and
    /// messaging are registered by the services that use them (<c>AddStateStore</c>, <c>AddEventBus</c>), so a
    /// host without them (the gateway) references neither library.
    /// </summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, string serviceName, params string[] grpcServiceNames)
    {
        var options = new ServiceHostOptions();
        builder.Configuration.GetSection("Alpaca:Service").Bind(options);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new ServiceIdentity(serviceName, grpcServiceNames));
        var limits = new RequestLimitsOptions();
        builder.Configuration.GetSection(RequestLimitsOptions.Section).Bind(limits);
        limits.Validate();
        builder.Services.AddSingleton(limits);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ApplyLimits(kestrel.Limits, limits);
            var address = IPAddress.Parse(options.BindAddress);
            kestrel.Listen(address, options.GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(address, options.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);

        // Defaults live in code (no appsettings.json is needed); configuration and environment override them.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        if (string.Equals(options.LogFormat, "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddSource("Alpaca.*");
                if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation()
                    .AddMeter("Alpaca.*")
                    .AddPrometheusExporter();
                if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
                {
                    metrics.AddOtlpExporter();
                }
            });

        builder.Services.AddGrpc(o =>
        {
            o.EnableDetailedErrors = builder.Environment.IsDevelopment();
            o.MaxReceiveMessageSize = limits.GrpcMaxReceiveMessageSize;
            o.MaxSendMessageSize = limits.GrpcMaxSendMessageSize;
        });
        builder.Services.AddGrpcReflection();
        builder.AddAlpacaAuth();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy("process is responsive"), tags: [HealthTags.Live]);
        builder.Services.AddGrpcHealthChecks(o =>
        {
            // Check on demand rather than from a cached background result: readiness changes (a model
            // loaded) must show at once.
            o.UseHealthChecksCache = false;
            o.Services.Map("", r => r.Tags.Contains(HealthTags.Ready) || r.Tags.Contains(HealthTags.Live));
            foreach (var name in grpcServiceNames)
            {
                o.Services.Map(name, r => r.Tags.Contains(HealthTags.Ready) || r.Tags.Contains(HealthTags.Live));
            }
        });

        return builder;
    }

    // Kestrel's own defaults are close to these, but implicit: written down here, the limits are the
    // documented ones (docs/security.md, "Input limits") and one configuration section changes them all.
    private static void ApplyLimits(KestrelServerLimits kestrel, RequestLimitsOptions limits)
    {
        kestrel.MaxRequestBodySize = limits.MaxRequestBodySize;
        kestrel.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
        kestrel.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
        kestrel.Http2.MaxStreamsPerConnection = limits.Http2MaxStreamsPerConnection;
        kestrel.Http2.MaxRequestHeaderFieldSize = limits.Http2MaxRequestHeaderFieldSize;
        kestrel.Http2.MaxFrameSize = limits.Http2MaxFrameSize;
        kestrel.Http2.HeaderTableSize = limits.Http2HeaderTableSize;
    }

    /// <summary>
    /// Authentication and authorization, then <c>/healthz</c>, <c>/readyz</c> and gRPC health (anonymous: probes and
    /// load balancers carry no key), <c>/metrics</c> and reflection (admin: the metrics port is the HTTP port that
    /// also serves <c>/v1</c> and Dapr, so it is not a separate, unexposed port; docs/security.md).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.UseAlpacaAuth();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Live) }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Ready) || r.Tags.Contains(HealthTags.Live) }).AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(ApiScope.Admin.PolicyName());
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapGrpcReflectionService().RequireAuthorization(ApiScope.Admin.PolicyName());
        return app;
    }
}

/// <summary>The name of the running service and the gRPC services it hosts.</summary>
public sealed record ServiceIdentity(string Name, IReadOnlyList<string> GrpcServices);
