using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>Server-sent events as OpenAI writes them: <c>data: {json}</c> and a blank line, flushed at once.</summary>
internal static class Sse
{
    public static async Task WriteAsync(HttpContext http, JsonObject chunk)
    {
        await http.Response.WriteAsync("data: " + chunk.ToJsonString(JsonSerializerOptions.Default) + "\n\n", http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    public static async Task DoneAsync(HttpContext http)
    {
        await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }
}
