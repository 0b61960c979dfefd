using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Alpaca.TestSupport.Teacher;

/// <summary>
/// An OpenAI-compatible teacher on 127.0.0.1 (Kestrel, port 0): <c>POST /v1/completions</c> with a prompt
/// string or list, one choice per prompt, in order, from a <see cref="ReplyPlan"/>, with <c>usage</c>
/// (100 prompt and 10 completion tokens per prompt). Requests whose 0-based number is in
/// <see cref="GarbageRequests"/> get a 200 whose body is not an OpenAI reply.
/// </summary>
public sealed class TeacherServer : IAsyncDisposable
{
    public const int PromptTokensPerPrompt = 100;
    public const int CompletionTokensPerPrompt = 10;

    private readonly WebApplication _app;
    private readonly ReplyPlan _plan;
    private int _requests;
    private int _refused;

    public TeacherServer(ReplyPlan plan, TimeSpan delay = default)
    {
        _plan = plan;
        Delay = delay;
        (_app, var address) = LoopbackHttp.Start(app => app.MapPost("/v1/completions", HandleAsync));
        BaseUrl = address + "/v1";
    }

    public string BaseUrl { get; }

    public TimeSpan Delay { get; set; }

    public HashSet<int> GarbageRequests { get; init; } = [];

    /// <summary>Answer 400 to a prompt list or a logit_bias, as servers with one prompt per request and another vocabulary do (ours, llama.cpp's).</summary>
    public bool SinglePromptNoLogitBias { get; init; }

    /// <summary>Requests refused because of <see cref="SinglePromptNoLogitBias"/>.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The <c>Authorization</c> header of every request, in arrival order ("" when none was sent).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>Prompts answered with a scripted reply (garbage requests excluded).</summary>
    public int PromptsAnswered { get; private set; }

    private async Task HandleAsync(HttpContext context)
    {
        Authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var number = Interlocked.Increment(ref _requests) - 1;
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted);
        }

        if (SinglePromptNoLogitBias && (body["prompt"] is JsonArray || body["logit_bias"] is JsonObject { Count: > 0 }))
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "'prompt' must be one string and 'logit_bias' is not supported.", type = "invalid_request_error" } });
            return;
        }

        var prompts = body["prompt"] is JsonArray list ? list.Select(p => p!.GetValue<string>()).ToList() : [body["prompt"]!.GetValue<string>()];
        if (GarbageRequests.Contains(number))
        {
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<html><body>502 upstream hiccup, but with status 200</body></html>");
            return;
        }

        var choices = new JsonArray();
        lock (_plan)
        {
            for (var i = 0; i < prompts.Count; i++)
            {
                var reply = _plan.Next();
                choices.Add(new JsonObject { ["text"] = reply.Text, ["index"] = i, ["logprobs"] = null, ["finish_reason"] = reply.FinishReason });
            }

            PromptsAnswered += prompts.Count;
        }

        var response = new JsonObject
        {
            ["id"] = $"cmpl-{number}",
            ["object"] = "text_completion",
            ["model"] = body["model"]?.GetValue<string>(),
            ["choices"] = choices,
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = PromptTokensPerPrompt * prompts.Count,
                ["completion_tokens"] = CompletionTokensPerPrompt * prompts.Count,
                ["total_tokens"] = (PromptTokensPerPrompt + CompletionTokensPerPrompt) * prompts.Count,
            },
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
