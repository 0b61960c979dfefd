using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Alpaca.ServiceDefaults;

/// <summary>
/// The metrics port serves the scraper and nothing else, and the other ports do not serve <c>/metrics</c>: the port
/// is a deliberate, separate door (reachable from the monitoring namespace only, by network policy) rather than
/// an anonymous path on ports that also carry the API.
/// </summary>
internal static class MetricsPort
{
    private static readonly PathString[] OpsPaths = ["/metrics", "/healthz", "/readyz"];

    public static WebApplication UseMetricsPort(this WebApplication app, int port)
    {
        app.Use((context, next) =>
        {
            var onMetricsPort = context.Connection.LocalPort == port;
            var path = context.Request.Path;
            var allowed = onMetricsPort
                ? OpsPaths.Any(p => path.Equals(p, StringComparison.Ordinal))
                : !path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);
            if (!allowed)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        return app;
    }
}
