using System.Text;
using System.Text.Json;
using Alpaca.Inference.Api.Generation;
using Alpaca.Llm.Chat;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>
/// Reads the OpenAI <c>messages</c> array into <see cref="ChatMessage"/>s (text content only; an array of
/// text parts is joined). Which prompt they become is the model's chat format's business
/// (<see cref="ModelChat"/>: the model's own template, or the Alpaca template).
/// </summary>
internal static class ChatPrompt
{
    public static IReadOnlyList<ChatMessage> FromMessages(JsonElement? messages)
    {
        if (messages is not { ValueKind: JsonValueKind.Array } list || list.GetArrayLength() == 0)
        {
            throw InferenceException.Invalid("'messages' must be a non-empty array.", "messages");
        }

        var turns = new List<ChatMessage>();
        var i = 0;
        foreach (var message in list.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                throw InferenceException.Invalid($"'messages[{i}]' must be an object with a string 'role'.", "messages");
            }

            var name = role.GetString()!;
            if (name is not ("system" or "developer" or "user" or "assistant" or "tool"))
            {
                throw InferenceException.Invalid($"'messages[{i}].role' = '{name}' is not supported (system, developer, user, assistant, tool).", "messages");
            }

            turns.Add(new ChatMessage(name, Content(message, i)));
            i++;
        }

        return turns;
    }

    // A string, or an array of parts of which only text parts are accepted.
    private static string Content(JsonElement message, int index)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                    || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                {
                    throw InferenceException.Invalid($"'messages[{index}].content' may only hold text parts (images and audio are not supported).", "messages");
                }

                text.Append(t.GetString());
            }

            return text.ToString();
        }

        throw InferenceException.Invalid($"'messages[{index}].content' must be a string or an array of text parts.", "messages");
    }
}
