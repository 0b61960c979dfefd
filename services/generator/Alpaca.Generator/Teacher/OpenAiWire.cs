using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Generator.Teacher;

/// <summary>The OpenAI JSON of the two endpoints: request bodies out, choices/usage/errors in.</summary>
internal static class OpenAiWire
{
    public static string CompletionsPath => "completions";

    public static string ChatPath => "chat/completions";

    /// <summary><c>/v1/completions</c> body; several prompts travel as a list and come back as choices 0..n-1.</summary>
    public static string CompletionsBody(string model, IReadOnlyList<string> prompts, TeacherSampling sampling, int maxTokens)
    {
        var body = Common(model, sampling, maxTokens);
        body["prompt"] = prompts.Count == 1 ? JsonValue.Create(prompts[0]) : new JsonArray([.. prompts.Select(p => (JsonNode?)JsonValue.Create(p))]);
        body["echo"] = false;
        return body.ToJsonString();
    }

    /// <summary><c>/v1/chat/completions</c> body with the prompt as the single user message.</summary>
    public static string ChatBody(string model, string prompt, TeacherSampling sampling, int maxTokens)
    {
        var body = Common(model, sampling, maxTokens);
        body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt });
        return body.ToJsonString();
    }

    private static JsonObject Common(string model, TeacherSampling sampling, int maxTokens)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = maxTokens,
            ["temperature"] = sampling.Temperature,
            ["top_p"] = sampling.TopP,
            ["n"] = 1,
            ["stream"] = false,
            ["presence_penalty"] = sampling.PresencePenalty,
            ["frequency_penalty"] = sampling.FrequencyPenalty,
        };
        if (sampling.Stop.Count > 0)
        {
            body["stop"] = new JsonArray([.. sampling.Stop.Select(s => (JsonNode?)JsonValue.Create(s))]);
        }

        if (sampling.LogitBias.Count > 0)
        {
            var bias = new JsonObject();
            foreach (var (token, value) in sampling.LogitBias)
            {
                bias[token] = value;
            }

            body["logit_bias"] = bias;
        }

        return body;
    }

    /// <summary>Reads a 200 reply into one completion per expected choice; anything unreadable becomes a garbage entry.</summary>
    public static (TeacherCompletion[] Completions, TokenUsage Usage) ReadReply(string body, int expected, bool chat)
    {
        var completions = new TeacherCompletion[expected];
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            Array.Fill(completions, TeacherCompletion.Unreadable($"reply is not JSON: {e.Message}"));
            return (completions, default);
        }

        using (doc)
        {
            var root = doc.RootElement;
            var usage = ReadUsage(root);
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                Array.Fill(completions, TeacherCompletion.Unreadable("reply has no 'choices' array"));
                return (completions, usage);
            }

            var position = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                var index = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out var n)
                    ? n
                    : position;
                position++;
                if (index < 0 || index >= expected || completions[index] is not null)
                {
                    continue;
                }

                completions[index] = ReadChoice(choice, chat);
            }

            for (var k = 0; k < expected; k++)
            {
                completions[k] ??= TeacherCompletion.Unreadable($"reply has no choice {k}");
            }

            return (completions, usage);
        }
    }

    private static TeacherCompletion ReadChoice(JsonElement choice, bool chat)
    {
        if (choice.ValueKind != JsonValueKind.Object)
        {
            return TeacherCompletion.Unreadable("choice is not an object");
        }

        string? finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var text = default(JsonElement);
        var found = chat
            ? choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out text)
            : choice.TryGetProperty("text", out text);
        if (!found || text.ValueKind != JsonValueKind.String)
        {
            return TeacherCompletion.Unreadable(chat ? "choice has no message.content string" : "choice has no 'text' string");
        }

        return new TeacherCompletion(text.GetString(), finish);
    }

    private static TokenUsage ReadUsage(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return default;
        }

        return new TokenUsage(Long(usage, "prompt_tokens"), Long(usage, "completion_tokens"));
    }

    private static long Long(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    /// <summary>The <c>error.message</c> and <c>error.code</c> of an error reply (or the raw body, shortened).</summary>
    public static (string Message, string? Code) ReadError(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return (error.GetString()!, null);
                }

                if (error.ValueKind == JsonValueKind.Object)
                {
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : error.GetRawText();
                    var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    return (message, code);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }

        return (body.Length > 300 ? body[..300] + "…" : body, null);
    }

    /// <summary>
    /// The reference shrank max_tokens when the error text contained "Please reduce your prompt" (the legacy
    /// API's wording); current servers say <c>context_length_exceeded</c> or "maximum context length".
    /// </summary>
    public static bool IsContextExceeded(int status, string message, string? code) =>
        status is 400 or 413 or 422
        && (code == "context_length_exceeded"
            || message.Contains("Please reduce your prompt", StringComparison.OrdinalIgnoreCase)
            || message.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
            || message.Contains("context_length_exceeded", StringComparison.OrdinalIgnoreCase));
}
