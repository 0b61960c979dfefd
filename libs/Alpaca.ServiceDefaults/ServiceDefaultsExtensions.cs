using System.Net;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.ServiceDefaults.Tls;
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
        if (options.MetricsPort is { } metricsPort && metricsPort is <= 0 or > 65535)
        {
            throw new InvalidOperationException($"Alpaca:Service:MetricsPort = {metricsPort} is not a port (1-65535; unset serves /metrics on the HTTP port).");
        }

        var tlsOptions = new TlsOptions();
        builder.Configuration.GetSection(TlsOptions.Section).Bind(tlsOptions);
        var tls = MutualTls.Load(tlsOptions);
        builder.Services.AddSingleton(new PeerTls(tls));

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ApplyLimits(kestrel.Limits, limits);
            var address = IPAddress.Parse(options.BindAddress);
            // Read when Kestrel starts, after the gateway marked itself the edge: the gateway's own ports face
            // clients (TLS ends at the ingress), so only a service's gRPC port requires a peer's certificate.
            var auth = kestrel.ApplicationServices.GetRequiredService<AuthOptions>();
            kestrel.Listen(address, options.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (tls is not null && !auth.IsEdge)
                {
                    listen.UseHttps(tls.ServerOptions());
                }
            });
            kestrel.Listen(address, options.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
            if (options.MetricsPort is { } port)
            {
                kestrel.Listen(address, port, listen => listen.Protocols = HttpProtocols.Http1);
            }
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
    /// load balancers carry no key), reflection (admin) and <c>/metrics</c>: anonymous on the metrics port when one is
    /// configured (and absent from the other ports), else admin on the HTTP port, which also serves <c>/v1</c> and
    /// Dapr (docs/security.md, "Metrics").
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        var host = app.Services.GetRequiredService<ServiceHostOptions>();
        if (host.MetricsPort is { } metricsPort)
        {
            app.UseMetricsPort(metricsPort);
        }

        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.UseAlpacaAuth();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Live) }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Ready) || r.Tags.Contains(HealthTags.Live) }).AllowAnonymous();
        var metrics = app.MapPrometheusScrapingEndpoint("/metrics");
        if (host.MetricsPort is null)
        {
            metrics.RequireAuthorization(ApiScope.Admin.PolicyName());
        }
        else
        {
            metrics.AllowAnonymous();
        }
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapGrpcReflectionService().RequireAuthorization(ApiScope.Admin.PolicyName());
        return app;
    }
}

/// <summary>This host's mutual TLS for calls to peers (null: plain h2c), from <c>Alpaca:Tls</c>.</summary>
public sealed record PeerTls(MutualTls? Tls)
{
    /// <summary>The handler a peer call starts from: this host's client certificate when mTLS is on.</summary>
    public SocketsHttpHandler CreateHandler() => Tls?.CreateClientHandler() ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
}

/// <summary>The name of the running service and the gRPC services it hosts.</summary>
public sealed record ServiceIdentity(string Name, IReadOnlyList<string> GrpcServices);
