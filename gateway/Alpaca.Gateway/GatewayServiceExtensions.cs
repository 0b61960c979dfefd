using Alpaca.Gateway.WebConsole;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Auth;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration.Memory;
using Yarp.ReverseProxy.Transforms;

namespace Alpaca.Gateway;

public static class GatewayServiceExtensions
{
    public static WebApplicationBuilder AddGatewayServices(this WebApplicationBuilder builder)
    {
        // Defaults first, so appsettings, environment and command-line sources added before override them.
        var tls = builder.Services.Select(d => d.ImplementationInstance).OfType<PeerTls>().Single().Tls;
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = GatewayRoutes.DefaultSettings(tls is not null) });
        var auth = builder.Services.Select(d => d.ImplementationInstance).OfType<AuthOptions>().Single();
        auth.IsEdge = true;
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            // With Alpaca:Tls every cluster's client (calls and active health checks) presents the gateway's
            // certificate and trusts only the configured authorities.
            .ConfigureHttpClient((_, handler) => tls?.ConfigureClient(handler))
            .AddTransforms(context => context.AddRequestTransform(transform =>
            {
                // Only the gateway may present the service credential: a client's own is dropped, the real one added.
                var headers = transform.ProxyRequest.Headers;
                headers.Remove(AuthOptions.ServiceTokenHeader);
                if (!string.IsNullOrEmpty(auth.ServiceToken))
                {
                    headers.TryAddWithoutValidation(AuthOptions.ServiceTokenHeader, auth.ServiceToken);
                }

                return ValueTask.CompletedTask;
            }));
        builder.Services.AddGatewayRateLimits(builder.Configuration);
        builder.Services.AddConsole(builder.Configuration);
        // Nothing the gateway does needs persistent data-protection keys (no cookies, no session affinity).
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        return builder;
    }

    public static WebApplication MapGatewayServices(this WebApplication app)
    {
        app.UseGatewayBodyLimit();
        // Authentication and authorization ran already (MapDefaultEndpoints), so the limiter sees the key id.
        app.UseRateLimiter();
        app.MapConsole();
        app.MapReverseProxy();
        return app;
    }
}
