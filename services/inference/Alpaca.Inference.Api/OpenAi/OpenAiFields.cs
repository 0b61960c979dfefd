using System.Text.Json;
using Alpaca.Inference.Api.Generation;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>
/// Which top-level fields of an OpenAI request this server accepts. A field that is neither honoured nor
/// harmless is a 400 naming it, rather than being dropped: a caller who asks for JSON mode, tools or a logit
/// bias and silently gets plain text has a bug it cannot see. Fields that are only accepted with their
/// no-op value (n = 1, response_format text, …) are checked where they are read.
/// </summary>
internal static class OpenAiFields
{
    /// <summary>Honoured by both endpoints (OpenAI's and vLLM's sampling and stopping fields).</summary>
    public static readonly IReadOnlySet<string> Common = new HashSet<string>(StringComparer.Ordinal)
    {
        "model", "max_tokens", "temperature", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty",
        "stream", "stream_options", "n", "logit_bias", "user",
        "top_k", "min_p", "repetition_penalty", "min_tokens", "ignore_eos", "stop_token_ids", "include_stop_str_in_output",
    };

    /// <summary>Accepted and ignored because they change nothing about the generated text (bookkeeping the OpenAI SDKs may send).</summary>
    public static readonly IReadOnlySet<string> Harmless = new HashSet<string>(StringComparer.Ordinal)
    {
        "metadata", "store", "service_tier", "safety_identifier", "prompt_cache_key", "parallel_tool_calls",
    };

    public static readonly IReadOnlySet<string> CompletionOnly = new HashSet<string>(StringComparer.Ordinal)
    {
        "prompt", "logprobs", "echo", "suffix", "best_of",
    };

    public static readonly IReadOnlySet<string> ChatOnly = new HashSet<string>(StringComparer.Ordinal)
    {
        "messages", "max_completion_tokens", "logprobs", "top_logprobs", "response_format", "tools", "tool_choice",
        "functions", "function_call", "modalities",
        "chat_template", "chat_template_kwargs", "add_generation_prompt", // vLLM's chat extras
    };

    /// <summary>Refuses the first field this endpoint does not know, and those known only with their no-op value.</summary>
    public static void Check(JsonElement root, bool chat)
    {
        var own = chat ? ChatOnly : CompletionOnly;
        foreach (var property in root.EnumerateObject())
        {
            var name = property.Name;
            if (!Common.Contains(name) && !Harmless.Contains(name) && !own.Contains(name))
            {
                throw InferenceException.Invalid($"'{name}' is not supported by this server (an Alpaca model served by {(chat ? "/v1/chat/completions" : "/v1/completions")}); remove it. Supported: {string.Join(", ", Common.Concat(own).Order(StringComparer.Ordinal))}.", name);
            }
        }

        if (chat)
        {
            CheckChat(new JsonFields(root));
        }
    }

    private static void CheckChat(JsonFields f)
    {
        if (f.Get("response_format") is { } format
            && !(format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
        {
            throw InferenceException.Invalid("'response_format' is not supported: only {\"type\": \"text\"} (JSON mode and JSON schemas are not enforced by this server).", "response_format");
        }

        foreach (var list in new[] { "tools", "functions" })
        {
            if (f.Get(list) is { } value && !(value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0))
            {
                throw InferenceException.Invalid($"'{list}' (function calling) is not supported.", list);
            }
        }

        foreach (var choice in new[] { "tool_choice", "function_call" })
        {
            if (f.Get(choice) is { } value && !(value.ValueKind == JsonValueKind.String && value.GetString() is "none" or "auto"))
            {
                throw InferenceException.Invalid($"'{choice}' is not supported: only \"none\" or \"auto\" (function calling is not supported).", choice);
            }
        }

        if (f.Get("modalities") is { } modalities
            && !(modalities.ValueKind == JsonValueKind.Array && modalities.EnumerateArray().All(m => m.ValueKind == JsonValueKind.String && m.GetString() == "text")))
        {
            throw InferenceException.Invalid("'modalities' is not supported: only [\"text\"].", "modalities");
        }
    }
}
