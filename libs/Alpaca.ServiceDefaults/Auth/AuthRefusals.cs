using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>
/// How a refused call is answered: a gRPC call gets <c>UNAUTHENTICATED</c> (16) or <c>PERMISSION_DENIED</c> (7)
/// as a trailers-only response (HTTP 401/403 would reach a client through a proxy as other codes), <c>/v1</c>
/// the OpenAI error shape with 401/403, anything else a plain 401/403.
/// </summary>
internal sealed class AuthRefusals : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
            return;
        }

        var forbidden = authorizeResult.Forbidden && context.User.Identity?.IsAuthenticated == true;
        var scope = policy.Requirements.OfType<ScopeRequirement>().Select(r => r.Scope.Name()).FirstOrDefault() ?? ApiScope.Admin.Name();
        var failure = context.Features.Get<Microsoft.AspNetCore.Authentication.IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
        var message = forbidden
            ? $"The API key lacks the '{scope}' scope this call needs."
            : failure ?? "An API key is required: send Authorization: Bearer <key>.";
        var response = context.Response;
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = (forbidden ? 7 : 16).ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return;
        }

        response.StatusCode = forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
        if (!forbidden)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        if (context.Request.Path.StartsWithSegments("/v1"))
        {
            await response.WriteAsJsonAsync(new
            {
                error = new
                {
                    message,
                    type = "invalid_request_error",
                    param = (string?)null,
                    code = forbidden ? "insufficient_scope" : "invalid_api_key",
                },
            }).ConfigureAwait(false);
            return;
        }

        await response.WriteAsync(message).ConfigureAwait(false);
    }
}
