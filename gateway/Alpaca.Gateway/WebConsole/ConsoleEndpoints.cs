using Alpaca.ServiceDefaults.Auth;

namespace Alpaca.Gateway.WebConsole;

/// <summary>
/// The web console at <c>/console/</c> (docs/console.md): its static files answer without a key (they hold no data);
/// every data call needs one — the chat through the OpenAI routes <c>/v1/…</c>, dashboards through
/// <c>/console/api/grpc/…</c> (<see cref="ConsoleGrpcBridge"/>), reports through <c>/console/api/reports</c>.
/// </summary>
public static class ConsoleEndpoints
{
    public static IServiceCollection AddConsole(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new ConsoleOptions();
        configuration.GetSection(ConsoleOptions.Section).Bind(options);
        services.AddSingleton(options);
        services.AddSingleton<ConsoleAssets>();
        services.AddSingleton<ConsoleReports>();
        services.AddSingleton<ConsoleGrpcBridge>();
        return services;
    }

    public static WebApplication MapConsole(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<ConsoleOptions>().Enabled)
        {
            return app;
        }

        var assets = app.Services.GetRequiredService<ConsoleAssets>();
        // One route for "/console" and everything under it (routing matches "/console" and "/console/" alike): the
        // page's relative links need the trailing slash, so its absence is a redirect.
        app.MapGet("/console/{**path}", (HttpContext http, string? path) =>
            string.IsNullOrEmpty(path) && http.Request.Path.Value?.EndsWith('/') != true
                ? Results.Redirect("/console/")
                : assets.Serve(http, path)).AllowAnonymous();

        // Whether to ask for a key: the page needs to know before its first data call.
        var auth = app.Services.GetRequiredService<AuthOptions>();
        app.MapGet("/console/api/info", () => Results.Json(new { auth = auth.Enabled })).AllowAnonymous();

        var bridge = app.Services.GetRequiredService<ConsoleGrpcBridge>();
        // As the gateway's gRPC routes: authenticated here, the method's own scope checked by the service.
        app.MapPost("/console/api/grpc/{service}/{method}", (HttpContext http, string service, string method) => bridge.HandleAsync(http, service, method))
            .RequireAuthorization(ApiScopes.AuthenticatedPolicy)
            .RequireRateLimiting(GatewayRateLimits.PolicyName);

        // Reports are what an evaluation through the inference API produced: an inference key may read them.
        var reports = app.Services.GetRequiredService<ConsoleReports>();
        app.MapGet("/console/api/reports", () => reports.List())
            .RequireAuthorization(ApiScope.Inference.PolicyName())
            .RequireRateLimiting(GatewayRateLimits.PolicyName);
        app.MapGet("/console/api/reports/{**path}", (HttpContext http, string path) => reports.Open(http, path))
            .RequireAuthorization(ApiScope.Inference.PolicyName())
            .RequireRateLimiting(GatewayRateLimits.PolicyName);
        return app;
    }
}
