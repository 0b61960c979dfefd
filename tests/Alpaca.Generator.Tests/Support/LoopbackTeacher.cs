using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Alpaca.Generator.Tests.Support;

/// <summary>One request as the teacher server received it.</summary>
public sealed record TeacherCall(string Path, JsonObject Body, string? Authorization, DateTimeOffset At);

/// <summary>What the server does with one HTTP request instead of answering normally.</summary>
public abstract record Fault
{
    /// <summary>HTTP status with an OpenAI error body (and optional Retry-After seconds).</summary>
    public sealed record Status(int Code, string Message, string? ErrorCode = null, string? RetryAfter = null) : Fault;

    /// <summary>200 with a body that is not an OpenAI reply.</summary>
    public sealed record Garbage(string Body) : Fault;

    /// <summary>Answers normally after a delay (for timeouts).</summary>
    public sealed record Slow(TimeSpan Delay) : Fault;
}

/// <summary>A reply text for one prompt and its finish_reason.</summary>
public sealed record ScriptedReply(string Text, string FinishReason = "stop");

/// <summary>
/// An OpenAI-compatible teacher on 127.0.0.1 (Kestrel, port 0) for tests: POST /v1/completions (prompt
/// string or list, one choice per prompt) and /v1/chat/completions, answering from a reply source with
/// OpenAI JSON (choices, finish_reason, usage), and injecting faults (429 with Retry-After, 5xx,
/// context-length errors, garbage, slowness) for the requests it is told to.
/// </summary>
public sealed class LoopbackTeacher : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Fault> _faults = new();
    private readonly ConcurrentQueue<TeacherCall> _calls = new();
    private readonly Func<string, ScriptedReply> _reply;

    /// <param name="reply">The reply to one prompt (called once per prompt, in request order).</param>
    /// <param name="echoHeaderInChat">Chat replies start by repeating the expected "N. Instruction:" header, as chat models do.</param>
    public LoopbackTeacher(Func<string, ScriptedReply> reply, bool echoHeaderInChat = false)
    {
        _reply = reply;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/v1/completions", ctx => Handle(ctx, chat: false));
        _app.MapPost("/v1/chat/completions", ctx => Handle(ctx, chat: true));
        EchoHeaderInChat = echoHeaderInChat;
        _app.StartAsync().GetAwaiter().GetResult();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.TrimEnd('/') + "/v1");
    }

    public Uri BaseUrl { get; }

    public bool EchoHeaderInChat { get; }

    public IReadOnlyList<TeacherCall> Calls => [.. _calls];

    /// <summary>Delay before every normal answer (a teacher that takes its time).</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Most requests the server was handling at the same moment.</summary>
    public int MaxConcurrentRequests => _maxConcurrent;

    /// <summary>Token counts the server reported in its usage fields, summed.</summary>
    public long ReportedPromptTokens => Interlocked.Read(ref _promptTokens);

    public long ReportedCompletionTokens => Interlocked.Read(ref _completionTokens);

    private int _concurrent;
    private int _maxConcurrent;
    private long _promptTokens;
    private long _completionTokens;

    /// <summary>Prompts answered so far (successful requests only).</summary>
    public int PromptsAnswered => _promptsAnswered;

    private int _promptsAnswered;

    /// <summary>The next HTTP requests get these faults, one each, in order.</summary>
    public void Enqueue(params Fault[] faults)
    {
        foreach (var f in faults)
        {
            _faults.Enqueue(f);
        }
    }

    private async Task Handle(HttpContext ctx, bool chat)
    {
        var now = Interlocked.Increment(ref _concurrent);
        try
        {
            int seen;
            while (now > (seen = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, now, seen) != seen)
            {
            }

            await Answer(ctx, chat);
        }
        finally
        {
            Interlocked.Decrement(ref _concurrent);
        }
    }

    private async Task Answer(HttpContext ctx, bool chat)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(ctx.Request.Body))!;
        _calls.Enqueue(new TeacherCall(ctx.Request.Path, body, ctx.Request.Headers.Authorization.FirstOrDefault(), DateTimeOffset.UtcNow));
        if (_faults.TryDequeue(out var fault))
        {
            switch (fault)
            {
                case Fault.Status s:
                    ctx.Response.StatusCode = s.Code;
                    if (s.RetryAfter is not null)
                    {
                        ctx.Response.Headers.RetryAfter = s.RetryAfter;
                    }

                    await ctx.Response.WriteAsJsonAsync(new { error = new { message = s.Message, type = "invalid_request_error", param = (string?)null, code = s.ErrorCode } });
                    return;
                case Fault.Garbage g:
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync(g.Body);
                    return;
                case Fault.Slow slow:
                    await Task.Delay(slow.Delay, ctx.RequestAborted);
                    break;
            }
        }

        if (ResponseDelay > TimeSpan.Zero)
        {
            await Task.Delay(ResponseDelay, ctx.RequestAborted);
        }

        var prompts = chat
            ? [body["messages"]![0]!["content"]!.GetValue<string>()]
            : body["prompt"] is JsonArray list ? list.Select(p => p!.GetValue<string>()).ToList() : [body["prompt"]!.GetValue<string>()];
        var choices = new JsonArray();
        long completionTokens = 0;
        for (var i = 0; i < prompts.Count; i++)
        {
            var r = _reply(prompts[i]);
            Interlocked.Increment(ref _promptsAnswered);
            completionTokens += Tokens(r.Text);
            var text = chat && EchoHeaderInChat ? "4. Instruction:" + r.Text : r.Text;
            choices.Add(chat
                ? new JsonObject { ["index"] = i, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = r.FinishReason }
                : new JsonObject { ["index"] = i, ["text"] = text, ["logprobs"] = null, ["finish_reason"] = r.FinishReason });
        }

        var promptTokens = prompts.Sum(p => (long)Tokens(p));
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _completionTokens, completionTokens);
        var reply = new JsonObject
        {
            ["id"] = "cmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = chat ? "chat.completion" : "text_completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = body["model"]?.GetValue<string>(),
            ["choices"] = choices,
            ["usage"] = new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = completionTokens, ["total_tokens"] = promptTokens + completionTokens },
        };
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(reply.ToJsonString());
    }

    /// <summary>A stand-in token count (whitespace words); the client only adds up what the server reports.</summary>
    public static int Tokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
