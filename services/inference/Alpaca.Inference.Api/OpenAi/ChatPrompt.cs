using System.Text;
using System.Text.Json;
using Alpaca.Inference.Api.Generation;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>
/// Maps chat messages onto the one prompt shape an Alpaca model was trained on (docs/inference-service.md):
/// the last message, which must be the user's, is the <b>instruction</b>; everything before it (system or
/// developer messages and earlier turns) becomes the <b>input</b>, as a transcript with one
/// "System: / User: / Assistant: " line per message. A single user message therefore gets exactly the
/// no-input Alpaca template, as in training.
/// </summary>
internal static class ChatPrompt
{
    public static (string Instruction, string? Input) FromMessages(JsonElement? messages)
    {
        if (messages is not { ValueKind: JsonValueKind.Array } list || list.GetArrayLength() == 0)
        {
            throw InferenceException.Invalid("'messages' must be a non-empty array.", "messages");
        }

        var turns = new List<(string Role, string Text)>();
        var i = 0;
        foreach (var message in list.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                throw InferenceException.Invalid($"'messages[{i}]' must be an object with a string 'role'.", "messages");
            }

            var name = role.GetString()!;
            if (name is not ("system" or "developer" or "user" or "assistant"))
            {
                throw InferenceException.Invalid($"'messages[{i}].role' = '{name}' is not supported (system, developer, user, assistant).", "messages");
            }

            turns.Add((name, Content(message, i)));
            i++;
        }

        if (turns[^1].Role != "user")
        {
            throw InferenceException.Invalid($"The last message must be the user's (it is '{turns[^1].Role}'): it becomes the Alpaca instruction.", "messages");
        }

        if (turns.Count == 1)
        {
            return (turns[0].Text, null);
        }

        var transcript = new StringBuilder();
        foreach (var (role, text) in turns.Take(turns.Count - 1))
        {
            if (transcript.Length > 0)
            {
                transcript.Append('\n');
            }

            transcript.Append(role switch { "user" => "User", "assistant" => "Assistant", _ => "System" }).Append(": ").Append(text);
        }

        return (turns[^1].Text, transcript.ToString());
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
