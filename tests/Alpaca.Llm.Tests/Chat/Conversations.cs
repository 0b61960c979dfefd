using System.Text.Json.Nodes;

namespace Alpaca.Llm.Tests.Chat;

/// <summary>The message lists every published template is rendered with: plain chats, system prompts, multi-turn, tools, and malformed ones the templates refuse.</summary>
internal static class Conversations
{
    private static JsonObject M(string role, string content) => new() { ["role"] = role, ["content"] = content };

    private static readonly JsonArray Tools =
    [
        new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = "get_weather",
                ["description"] = "Current weather in a city",
                ["parameters"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string", ["description"] = "City name, e.g. Zürich" } },
                    ["required"] = new JsonArray("city"),
                },
            },
        },
    ];

    private static JsonObject ToolCall() => new()
    {
        ["role"] = "assistant",
        ["content"] = "",
        ["tool_calls"] = new JsonArray(new JsonObject
        {
            ["id"] = "call12345",
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = new JsonObject { ["city"] = "Paris" } },
        }),
    };

    private static JsonObject ToolResult() => new() { ["role"] = "tool", ["tool_call_id"] = "call12345", ["content"] = "{\"temp\": 21.5, \"sky\": \"clear\"}" };

    /// <summary>(name, messages, extra variables).</summary>
    public static IEnumerable<(string Name, JsonArray Messages, JsonObject? Extra)> All()
    {
        yield return ("one-user", [M("user", "Give three tips for staying healthy.")], null);
        yield return ("system-user", [M("system", "You are a terse assistant."), M("user", "What is the capital of France?")], null);
        yield return ("multi-turn", [M("user", "Hi!"), M("assistant", "Hello! How can I help?"), M("user", "Tell me a joke.")], null);
        yield return ("system-multi-turn", [M("system", "  Be kind.  "), M("user", " Hi "), M("assistant", " Hello. "), M("user", "Write \"hello\" in JSON\n\tplease")], null);
        yield return ("unicode", [M("user", "Übersetze: 猫が好き 🐱 — ok?")], null);
        yield return ("ends-with-assistant", [M("user", "2+2?"), M("assistant", "4")], null);
        yield return ("not-alternating", [M("user", "a"), M("user", "b")], null);
        yield return ("empty-content", [M("user", "")], null);
        yield return ("tools", [M("system", "Use tools."), M("user", "Weather in Paris?")], new JsonObject { ["tools"] = Tools.DeepClone() });
        yield return ("tool-call-and-result", [M("user", "Weather in Paris?"), ToolCall(), ToolResult()], new JsonObject { ["tools"] = Tools.DeepClone() });
        yield return ("date-string", [M("user", "What day is it?")], new JsonObject { ["date_string"] = "03 Dec 2026" });
    }
}
