using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.Inference.Api.Generation;

namespace Alpaca.Inference.Api.OpenAi;

/// <summary>
/// An OpenAI completions or chat request turned into a <see cref="GenerationSpec"/>. OpenAI fields
/// (max_tokens, temperature, top_p, seed, stop, logprobs, penalties, stream, stream_options) plus vLLM's
/// extras (top_k, min_p, repetition_penalty, min_tokens, ignore_eos, stop_token_ids,
/// include_stop_str_in_output). What we cannot honour (n &gt; 1, echo, suffix, logit_bias, tools,
/// response_format other than text, any field not listed in <see cref="OpenAiFields"/>) is a 400 rather than
/// silently ignored.
/// </summary>
internal sealed record OpenAiRequest(GenerationSpec Spec, bool Stream, bool IncludeUsage)
{
    public static OpenAiRequest Completion(JsonElement root)
    {
        var f = Object(root, chat: false);
        var prompt = f.Get("prompt") switch
        {
            null => throw InferenceException.Invalid("'prompt' is required.", "prompt"),
            { ValueKind: JsonValueKind.String } s => s.GetString()!,
            { ValueKind: JsonValueKind.Array } a when a.GetArrayLength() == 1 && a[0].ValueKind == JsonValueKind.String => a[0].GetString()!,
            { ValueKind: JsonValueKind.Array } => throw InferenceException.Invalid("'prompt' must be one string (a batch of prompts or token ids is not supported; send one request per prompt).", "prompt"),
            _ => throw JsonFields.Wrong("prompt", "a string"),
        };
        if (f.Bool("echo") == true)
        {
            throw InferenceException.Invalid("'echo' is not supported.", "echo");
        }

        if (!string.IsNullOrEmpty(f.String("suffix")))
        {
            throw InferenceException.Invalid("'suffix' is not supported.", "suffix");
        }

        if (f.Int("best_of") is { } bestOf && bestOf != 1)
        {
            throw InferenceException.Invalid($"'best_of' = {bestOf}: only 1 is supported.", "best_of");
        }

        var logprobs = f.Int("logprobs");
        if (logprobs is < 0 or > 20)
        {
            throw InferenceException.Invalid($"'logprobs' = {logprobs} is out of range [0, 20].", "logprobs");
        }

        var spec = Common(f) with
        {
            Prompt = prompt,
            MaxTokens = f.Int("max_tokens"),
            DefaultMaxTokens = 16, // OpenAI's default for completions
            LogProbs = logprobs is not null,
            TopLogProbs = logprobs ?? 0,
        };
        return new OpenAiRequest(spec, f.Bool("stream") ?? false, WantsUsage(f));
    }

    public static OpenAiRequest Chat(JsonElement root)
    {
        var f = Object(root, chat: true);
        var messages = ChatPrompt.FromMessages(f.Get("messages"));
        var kwargs = f.Get("chat_template_kwargs") switch
        {
            null => null,
            // Parsed into nodes of their own: the request's JsonDocument is gone by the time the template renders.
            { ValueKind: JsonValueKind.Object } o => JsonNode.Parse(o.GetRawText())!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value),
            _ => throw JsonFields.Wrong("chat_template_kwargs", "an object"),
        };

        var logprobs = f.Bool("logprobs") ?? false;
        var top = f.Int("top_logprobs") ?? 0;
        if (top != 0 && !logprobs)
        {
            throw InferenceException.Invalid("'top_logprobs' needs 'logprobs': true.", "top_logprobs");
        }

        var spec = Common(f) with
        {
            Messages = messages,
            ChatTemplate = f.String("chat_template"),
            ChatTemplateKwargs = kwargs,
            AddGenerationPrompt = f.Bool("add_generation_prompt") ?? true,
            MaxTokens = f.Int("max_completion_tokens") ?? f.Int("max_tokens"),
            DefaultMaxTokens = null, // OpenAI: as long as the context allows
            LogProbs = logprobs,
            TopLogProbs = top,
        };
        return new OpenAiRequest(spec, f.Bool("stream") ?? false, WantsUsage(f));
    }

    private static JsonFields Object(JsonElement root, bool chat)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw InferenceException.Invalid("The request body must be a JSON object.");
        }

        OpenAiFields.Check(root, chat);
        return new JsonFields(root);
    }

    private static GenerationSpec Common(JsonFields f)
    {
        if (f.Int("n") is { } n && n != 1)
        {
            throw InferenceException.Invalid($"'n' = {n}: only 1 choice per request is supported.", "n");
        }

        if (f.Get("logit_bias") is { ValueKind: JsonValueKind.Object } bias && bias.EnumerateObject().Any())
        {
            throw InferenceException.Invalid("'logit_bias' is not supported.", "logit_bias");
        }

        var topK = f.Int("top_k") ?? 0;
        return new GenerationSpec
        {
            Names = FieldNames.OpenAi,
            Model = f.String("model"),
            Temperature = f.Number("temperature"),
            TopP = f.Number("top_p"),
            TopK = topK == -1 ? 0 : topK, // vLLM: -1 = off
            MinP = f.Number("min_p") ?? 0,
            RepetitionPenalty = f.Number("repetition_penalty"),
            FrequencyPenalty = f.Number("frequency_penalty") ?? 0,
            PresencePenalty = f.Number("presence_penalty") ?? 0,
            Seed = f.Long("seed") is { } seed ? unchecked((ulong)seed) : null,
            Stop = f.Strings("stop"),
            StopTokenIds = f.Ints("stop_token_ids"),
            MinTokens = f.Int("min_tokens") ?? 0,
            IgnoreEos = f.Bool("ignore_eos") ?? false,
            IncludeStopInOutput = f.Bool("include_stop_str_in_output") ?? false,
            RequestId = f.String("user") ?? "",
        };
    }

    private static bool WantsUsage(JsonFields f) =>
        f.Get("stream_options") is { ValueKind: JsonValueKind.Object } o && new JsonFields(o).Bool("include_usage") == true;
}
