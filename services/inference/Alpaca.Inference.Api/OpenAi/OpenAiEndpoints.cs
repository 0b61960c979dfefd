using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Inference.Api.Generation;
using Alpaca.Inference.Api.Models;
using Alpaca.Inference.Serving;
using Alpaca.ServiceDefaults.Auth;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>
/// The OpenAI-compatible HTTP API (<c>/v1/completions</c>, <c>/v1/chat/completions</c>, <c>/v1/models</c>)
/// on the service's HTTP port, over the same runner and schedulers as gRPC. <c>stream: true</c> answers
/// with server-sent events ending in <c>data: [DONE]</c>, as OpenAI and vLLM do.
/// </summary>
public static class OpenAiEndpoints
{
    public static IEndpointRouteBuilder MapOpenAiEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (ModelRegistry registry) =>
        {
            var data = new JsonArray();
            foreach (var info in registry.List().Where(i => i.State == Contracts.V1.ModelState.Ready))
            {
                data.Add(new JsonObject { ["id"] = info.Name, ["object"] = "model", ["created"] = 0, ["owned_by"] = "alpaca", ["max_model_len"] = info.ContextLength });
            }

            return Results.Json(new JsonObject { ["object"] = "list", ["data"] = data });
        }).RequireAuthorization(ApiScope.Inference.PolicyName());
        app.MapPost("/v1/completions", (HttpContext http, GenerationRunner runner) => HandleAsync(http, runner, chat: false))
            .RequireAuthorization(ApiScope.Inference.PolicyName());
        app.MapPost("/v1/chat/completions", (HttpContext http, GenerationRunner runner) => HandleAsync(http, runner, chat: true))
            .RequireAuthorization(ApiScope.Inference.PolicyName());
        return app;
    }

    private static async Task HandleAsync(HttpContext http, GenerationRunner runner, bool chat)
    {
        OpenAiRequest request;
        StartedGeneration started;
        try
        {
            JsonDocument body;
            try
            {
                body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            }
            catch (JsonException e)
            {
                throw InferenceException.Invalid($"The request body is not valid JSON: {e.Message}");
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // Kestrel refuses the body at Alpaca:Limits:MaxRequestBodySize, before it is parsed.
                await OpenAiError.WriteTooLargeAsync(http);
                return;
            }

            using (body)
            {
                request = chat ? OpenAiRequest.Chat(body.RootElement) : OpenAiRequest.Completion(body.RootElement);
            }

            started = await runner.StartAsync(request.Spec, http.RequestAborted, http.User);
        }
        catch (InferenceException e)
        {
            await OpenAiError.WriteAsync(http, e);
            return;
        }

        var shape = new ResponseShape(chat, started.Model.Name, started.Model.Engine.Tokenizer);
        if (request.Stream)
        {
            await StreamAsync(http, started, shape, request.IncludeUsage, request.Spec.LogProbs);
        }
        else
        {
            await RespondAsync(http, started, shape, request.Spec.LogProbs);
        }
    }

    private static async Task RespondAsync(HttpContext http, StartedGeneration started, ResponseShape shape, bool logprobs)
    {
        var text = new System.Text.StringBuilder();
        var tokens = new List<SequenceToken>();
        SequenceFinished? finished = null;
        await foreach (var batch in started.ReadBatchesAsync(http.RequestAborted))
        {
            var (delta, batchTokens, end) = StartedGeneration.Merge(batch);
            text.Append(delta);
            tokens.AddRange(batchTokens);
            finished ??= end;
        }

        await http.Response.WriteAsJsonAsync(shape.Full(text.ToString(), tokens, started.Handle.PromptTokens, finished!, logprobs), http.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext http, StartedGeneration started, ResponseShape shape, bool includeUsage, bool logprobs)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // proxies must not buffer the stream
        if (shape.Chat)
        {
            await Sse.WriteAsync(http, shape.ChatRoleChunk());
        }

        await foreach (var batch in started.ReadBatchesAsync(http.RequestAborted))
        {
            var (text, tokens, finished) = StartedGeneration.Merge(batch);
            if (text.Length > 0 || (logprobs && tokens.Count > 0))
            {
                await Sse.WriteAsync(http, shape.Chunk(text, tokens, null, logprobs));
            }

            if (finished is not null)
            {
                await Sse.WriteAsync(http, shape.Chunk("", [], finished, false));
                if (includeUsage)
                {
                    await Sse.WriteAsync(http, shape.UsageChunk(finished));
                }
            }
        }

        await Sse.DoneAsync(http);
    }
}
