using Alpaca.ServiceDefaults;

namespace Alpaca.Gateway;

/// <summary>
/// The gateway's own answer to an HTTP body over <c>Alpaca:Limits:MaxRequestBodySize</c>: 413 in the OpenAI error
/// shape (the /v1 routes are the OpenAI API), before anything is forwarded when the body declares its length,
/// and as soon as Kestrel stops a chunked body at the limit otherwise (YARP then reports a request-body error
/// with Kestrel's 413 but writes no body). gRPC calls are left alone: their limit is per message, in the backend.
/// </summary>
internal static class GatewayBodyLimit
{
    public static IApplicationBuilder UseGatewayBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            await next(context);
            return;
        }

        var limit = context.RequestServices.GetRequiredService<RequestLimitsOptions>().MaxRequestBodySize;
        if (context.Request.ContentLength > limit)
        {
            await WriteAsync(context, limit);
            return;
        }

        await next(context);
        if (!context.Response.HasStarted && context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(context, limit);
        }
    });

    private static Task WriteAsync(HttpContext context, long limit)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        return context.Response.WriteAsJsonAsync(new
        {
            error = new
            {
                message = $"The request body exceeds the gateway's limit of {limit} bytes (Alpaca:Limits:MaxRequestBodySize).",
                type = "invalid_request_error",
                param = (string?)null,
                code = "request_too_large",
            },
        });
    }
}
