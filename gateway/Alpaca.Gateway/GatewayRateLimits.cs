using System.Globalization;
using System.Threading.RateLimiting;
using Alpaca.ServiceDefaults.Auth;
using Microsoft.AspNetCore.RateLimiting;

namespace Alpaca.Gateway;

/// <summary>
/// Per-client rate limits (section <c>Alpaca:Gateway:RateLimit</c>; off unless <c>PermitLimit</c> &gt; 0).
/// A client is its authenticated API key (its id; a header the client makes up is no identity), else, for the
/// anonymous routes and with authentication off, its remote address. A rejected gRPC call gets a proper <c>RESOURCE_EXHAUSTED</c> status with a
/// retry hint rather than HTTP 429, which gRPC clients would report as UNAVAILABLE.
/// </summary>
public static class GatewayRateLimits
{
    public const string PolicyName = "per-client";

    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("Alpaca:Gateway:RateLimit");
        var permitLimit = section.GetValue("PermitLimit", 0);
        var window = section.GetValue("Window", TimeSpan.FromSeconds(1));
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(PolicyName, context =>
            {
                if (permitLimit <= 0)
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                var client = context.User.FindFirst(ApiScopes.KeyIdClaimType)?.Value is { } keyId && context.User.Identity?.IsAuthenticated == true
                    ? "key:" + keyId
                    : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permitLimit,
                    Window = window,
                    QueueLimit = 0,
                });
            });
            options.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var ra) ? ra : window;
                var response = context.HttpContext.Response;
                if (context.HttpContext.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
                {
                    response.StatusCode = StatusCodes.Status200OK;
                    response.ContentType = "application/grpc";
                    response.Headers["grpc-status"] = "8";
                    response.Headers["grpc-message"] = "rate limit exceeded; retry later";
                    response.Headers["retry-after-ms"] = ((long)retryAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
                    return;
                }

                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await response.WriteAsJsonAsync(new { error = new { message = "Rate limit exceeded; retry later.", type = "rate_limit_exceeded" } }, ct).ConfigureAwait(false);
            };
        });
        return services;
    }
}
