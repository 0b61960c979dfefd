using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration.Memory;

namespace Alpaca.Gateway;

public static class GatewayServiceExtensions
{
    public static WebApplicationBuilder AddGatewayServices(this WebApplicationBuilder builder)
    {
        // Defaults first, so appsettings, environment and command-line sources added before override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = GatewayRoutes.DefaultSettings() });
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        builder.Services.AddGatewayRateLimits(builder.Configuration);
        // Nothing the gateway does needs persistent data-protection keys (no cookies, no session affinity).
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        return builder;
    }

    public static WebApplication MapGatewayServices(this WebApplication app)
    {
        app.UseGatewayBodyLimit();
        // Authentication and authorization slot in here (before the rate limiter) in a later issue.
        app.UseRateLimiter();
        app.MapReverseProxy();
        return app;
    }
}
