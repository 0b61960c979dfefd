using System.Globalization;
using System.Text.Json.Nodes;
using Alpaca.Inference.Api.Generation;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>OpenAI-shaped errors: <c>{"error":{"message","type","param","code"}}</c> with the matching HTTP status.</summary>
internal static class OpenAiError
{
    public static (int Status, JsonObject Body) From(InferenceException e)
    {
        var (status, type, code) = e.Kind switch
        {
            InferenceErrorKind.InvalidArgument => (StatusCodes.Status400BadRequest, "invalid_request_error", (string?)null),
            InferenceErrorKind.NotFound => (StatusCodes.Status404NotFound, "invalid_request_error", "model_not_found"),
            InferenceErrorKind.ResourceExhausted => (StatusCodes.Status429TooManyRequests, "rate_limit_error", "queue_full"),
            InferenceErrorKind.QuotaExhausted => (StatusCodes.Status429TooManyRequests, "rate_limit_error", "tokens_per_minute_exceeded"),
            _ => (StatusCodes.Status503ServiceUnavailable, "service_unavailable", "model_not_ready"),
        };
        return (status, Body(e.Message, type, e.Param, code));
    }

    public static JsonObject Body(string message, string type, string? param = null, string? code = null) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = param,
            ["code"] = code,
        },
    };

    /// <summary>413 for a body over the server's limit (OpenAI answers the same status for oversized requests).</summary>
    public static async Task WriteTooLargeAsync(HttpContext http)
    {
        var limit = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        await http.Response.WriteAsJsonAsync(Body($"The request body exceeds this server's limit of {limit} bytes (Alpaca:Limits:MaxRequestBodySize).", "invalid_request_error", code: "request_too_large"), http.RequestAborted);
    }

    public static async Task WriteAsync(HttpContext http, InferenceException e)
    {
        var (status, body) = From(e);
        if (e.RetryAfter is { } retry)
        {
            // Whole seconds for the standard header, milliseconds for clients that can use them.
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["retry-after-ms"] = ((long)retry.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        }

        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(body, http.RequestAborted);
    }
}
