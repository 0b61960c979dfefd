using System.Text.Json.Nodes;
using Alpaca.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Alpaca.Platform.Tests.Recipe;

/// <summary>
/// Another OpenAI-compatible server on 127.0.0.1 (real Kestrel, <c>POST /v1/chat/completions</c> as OpenAI
/// speaks it, Bearer key required). Model "student" answers task i with <see cref="Answer"/>; model "judge"
/// answers deterministically: the output that alone carries the word GOOD wins, otherwise always
/// "Output (a)" (a judge with a pure position bias, which asking both orders must turn into a tie).
/// </summary>
internal sealed class OpenAiLoopback : IAsyncDisposable
{
    public const string Key = "sk-loopback-test";

    private readonly WebApplication _app;
    private int _student;
    private int _judge;

    public OpenAiLoopback()
    {
        (_app, var address) = LoopbackHttp.Start(app => app.MapPost("/v1/chat/completions", HandleAsync));
        BaseUrl = address + "/v1";
    }

    public string BaseUrl { get; }

    public int StudentRequests => Volatile.Read(ref _student);

    public int JudgeRequests => Volatile.Read(ref _judge);

    /// <summary>Task 0, 1 and 4 carry the marker (wins), 2 is plain (a tie by position bias), 3 loses to a marked reference.</summary>
    public static string Answer(int task) => task is 0 or 1 or 4
        ? $"GOOD: Plant {task} seeds, water the beds, and rest!"
        : $"Pull weeds; plant seeds number {task}.";

    private async Task HandleAsync(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != "Bearer " + Key)
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new JsonObject { ["error"] = new JsonObject { ["message"] = "bad key" } });
            return;
        }

        var body = (await JsonNode.ParseAsync(http.Request.Body))!.AsObject();
        var content = body["messages"]![0]!["content"]!.GetValue<string>();
        string text;
        if (body["model"]!.GetValue<string>() == "judge")
        {
            Interlocked.Increment(ref _judge);
            var a = Between(content, "# Output (a):", "# Output (b):");
            var b = Between(content, "# Output (b):", "# Which is better");
            text = a.Contains("GOOD", StringComparison.Ordinal) && !b.Contains("GOOD", StringComparison.Ordinal) ? "Output (a)"
                : b.Contains("GOOD", StringComparison.Ordinal) && !a.Contains("GOOD", StringComparison.Ordinal) ? "Output (b)"
                : "Output (a)";
        }
        else
        {
            Interlocked.Increment(ref _student);
            var task = int.Parse(content["Task ".Length..content.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            text = Answer(task);
        }

        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = body["model"]!.GetValue<string>(),
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
                ["finish_reason"] = "stop",
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15 },
        });
    }

    private static string Between(string text, string start, string end)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[from..text.IndexOf(end, from, StringComparison.Ordinal)];
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
