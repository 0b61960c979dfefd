using System.Globalization;
using System.Security.Claims;
using System.Text;
using Alpaca.Inference.Api.Models;
using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Chat;
using Alpaca.Llm.Prompts;
using Alpaca.ServiceDefaults.Auth;

namespace Alpaca.Inference.Api.Generation;

/// <summary>
/// The one path from a front door to a scheduler: picks the model, applies the Alpaca template,
/// tokenizes, validates every field with a message that names it, and submits. The size limits
/// (<see cref="GenerationLimits"/>) are checked first, before the model is even resolved.
/// </summary>
public sealed class GenerationRunner(ModelRegistry registry, GenerationLimits limits, TokenQuotas? quotas = null)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Starts a generation; <paramref name="cancellation"/> (the caller's disconnect) frees its slot within one step.</summary>
    /// <remarks>
    /// <paramref name="caller"/> (the authenticated key or token) is refused while its generated-tokens quota is
    /// spent (<see cref="TokenQuotas"/>), and charged with what this generation produced when it is read out.
    /// </remarks>
    public async Task<StartedGeneration> StartAsync(GenerationSpec spec, CancellationToken cancellation, ClaimsPrincipal? caller = null)
    {
        CheckSizes(spec, limits);
        if (quotas is not null && await quotas.RetryAfterAsync(caller).ConfigureAwait(false) is { } wait)
        {
            throw new InferenceException(
                InferenceErrorKind.QuotaExhausted,
                $"This key's generated-token quota is used up (tokens per minute); retry in {Math.Ceiling(wait.TotalMilliseconds):F0} ms.",
                wait);
        }

        return Start(spec, cancellation, quotas is null || caller is null ? null : tokens => quotas.ChargeAsync(caller, tokens));
    }

    private StartedGeneration Start(GenerationSpec spec, CancellationToken cancellation, Func<int, ValueTask>? charge)
    {
        // A model may be swapped between resolving it and submitting (its scheduler then says Draining):
        // resolve again, which finds the new one.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var model = registry.Resolve(spec.Model);
            var request = Build(spec, model, limits);
            switch (model.Scheduler.TrySubmit(request, cancellation, out var handle))
            {
                case SubmitOutcome.Accepted:
                    return new StartedGeneration(model, handle!, charge);
                case SubmitOutcome.QueueFull:
                    var retry = model.Scheduler.RetryAfter;
                    throw new InferenceException(
                        InferenceErrorKind.ResourceExhausted,
                        $"Model '{model.Name}' is at capacity: {model.Scheduler.Slots} sequences running and {model.Scheduler.Waiting} waiting (the queue limit); retry in {retry.TotalMilliseconds:F0} ms.",
                        retry);
                case SubmitOutcome.Draining:
                    continue;
            }
        }

        throw new InferenceException(InferenceErrorKind.FailedPrecondition, $"Model '{spec.Model}' is being unloaded.");
    }

    /// <summary>
    /// The size limits, which need no model: the prompt's characters (before tokenizing, so a multi-megabyte
    /// prompt is refused by a length comparison), the model name, the request id, the stop lists, max_tokens.
    /// </summary>
    public static void CheckSizes(GenerationSpec spec, GenerationLimits limits)
    {
        var n = spec.Names;
        if (spec.Model is { } name && name.Length > limits.MaxModelNameChars)
        {
            throw InferenceException.Invalid($"model has {name.Length} characters; a model name has at most {limits.MaxModelNameChars}.", "model");
        }

        if (spec.RequestId.Length > limits.MaxRequestIdChars)
        {
            throw InferenceException.Invalid($"{n.RequestId} has {spec.RequestId.Length} characters; at most {limits.MaxRequestIdChars} are allowed.", n.RequestId);
        }

        if (spec.Messages is not null)
        {
            var chars = spec.Messages.Sum(m => (long)m.Content.Length);
            if (chars > limits.MaxPromptChars)
            {
                throw InferenceException.Invalid($"The messages have {chars} characters together; at most {limits.MaxPromptChars} are accepted (checked before templating).", "messages");
            }

            if (spec.ChatTemplate is { } template && template.Length > limits.MaxChatTemplateChars)
            {
                throw InferenceException.Invalid($"chat_template has {template.Length} characters; at most {limits.MaxChatTemplateChars} are accepted.", "chat_template");
            }
        }
        else if (spec.Instruction is not null)
        {
            var chars = (long)spec.Instruction.Length + (spec.Input?.Length ?? 0);
            if (chars > limits.MaxPromptChars)
            {
                throw InferenceException.Invalid($"The instruction and input have {chars} characters together; at most {limits.MaxPromptChars} are accepted (checked before tokenizing).", "instruction");
            }
        }
        else if (spec.Prompt is { } prompt && prompt.Length > limits.MaxPromptChars)
        {
            throw InferenceException.Invalid($"{n.Prompt} has {prompt.Length} characters; at most {limits.MaxPromptChars} are accepted (checked before tokenizing).", n.Prompt);
        }

        if (spec.MaxTokens is { } maxTokens && maxTokens > limits.MaxTokens)
        {
            throw InferenceException.Invalid($"{n.MaxTokens} = {maxTokens} exceeds this server's limit of {limits.MaxTokens} new tokens per request.", n.MaxTokens);
        }

        ValidateStops(spec.Stop, n.Stop, limits);
        if (spec.StopTokenIds.Count > limits.MaxStopTokenIds)
        {
            throw InferenceException.Invalid($"{n.StopTokenIds} has {spec.StopTokenIds.Count} ids; at most {limits.MaxStopTokenIds} are allowed.", n.StopTokenIds);
        }
    }

    /// <summary>Validates the spec against the model and builds the scheduler's request.</summary>
    public static SequenceRequest Build(GenerationSpec spec, ServedModel model, GenerationLimits? limits = null)
    {
        limits ??= GenerationLimits.Default;
        CheckSizes(spec, limits);
        var n = spec.Names;
        string text;
        var tokenizer = model.Engine.Tokenizer;
        var addBos = tokenizer.AddBosByDefault;
        var parseSpecial = false;
        if (spec.Messages is not null)
        {
            var format = ChatFormatOf(spec, model);
            text = Render(format, spec, model.Name);
            if (text.Length > limits.MaxPromptChars)
            {
                throw InferenceException.Invalid($"The rendered chat prompt has {text.Length} characters; at most {limits.MaxPromptChars} are accepted.", "messages");
            }

            // As llama.cpp's server: the rendered text's special tokens are tokens, and a template that writes
            // {{ bos_token }} itself gets no second BOS.
            parseSpecial = format.ParseSpecialTokens;
            addBos &= !(parseSpecial && model.Chat.BosText is { Length: > 0 } bos && text.StartsWith(bos, StringComparison.Ordinal));
        }
        else if (spec.Instruction is not null)
        {
            if (spec.Instruction.Length == 0)
            {
                throw InferenceException.Invalid("instruction.instruction is empty: give the instruction to follow.", "instruction");
            }

            text = AlpacaPrompt.Build(spec.Instruction, spec.Input);
        }
        else
        {
            text = spec.Prompt ?? "";
            if (text.Length == 0)
            {
                throw InferenceException.Invalid($"{n.Prompt} is empty: give a prompt (or an Alpaca instruction).", n.Prompt);
            }
        }

        var prompt = tokenizer.Encode(text, addBos, parseSpecial);
        var context = model.Scheduler.ContextLength;
        if (prompt.Count >= context)
        {
            throw InferenceException.Invalid($"The prompt has {prompt.Count} tokens but the context length of model '{model.Name}' is {context} tokens (at most {context - 1} prompt tokens leave room for one new token).", n.Prompt);
        }

        int maxTokens;
        if (spec.MaxTokens is { } requested)
        {
            if (requested < 1)
            {
                throw InferenceException.Invalid($"{n.MaxTokens} = {requested} must be at least 1.", n.MaxTokens);
            }

            if (prompt.Count + requested > context)
            {
                throw InferenceException.Invalid(
                    $"The prompt has {prompt.Count} tokens and {n.MaxTokens} is {requested}: {prompt.Count} + {requested} = {prompt.Count + requested} exceeds the context length of {context} tokens of model '{model.Name}' (lower {n.MaxTokens} to at most {context - prompt.Count}).",
                    n.MaxTokens);
            }

            maxTokens = requested;
        }
        else
        {
            // Unset: the default, shortened to what the context has left and to the server's cap.
            maxTokens = Math.Min(Math.Min(spec.DefaultMaxTokens ?? int.MaxValue, limits.MaxTokens), context - prompt.Count);
        }

        if (spec.MinTokens < 0 || spec.MinTokens > maxTokens)
        {
            throw InferenceException.Invalid($"{n.MinTokens} = {spec.MinTokens} must be in [0, {maxTokens}] (the max_tokens of this request).", n.MinTokens);
        }

        var vocab = model.Engine.Model.VocabSize;
        var temperature = Range(spec.Temperature ?? 1.0, 0, 100, n.Temperature, "[0, 100]", lowOpen: false);
        if (spec.TopK < 0 || spec.TopK > vocab)
        {
            throw InferenceException.Invalid($"{n.TopK} = {spec.TopK} is out of range [0, {vocab}] (0 = off; the vocabulary has {vocab} tokens).", n.TopK);
        }

        var topP = Range(spec.TopP ?? 1.0, 0, 1, n.TopP, "(0, 1]", lowOpen: true);
        var minP = Range(spec.MinP, 0, 1, n.MinP, "[0, 1]", lowOpen: false);
        var repetition = Range(spec.RepetitionPenalty ?? 1.0, 0, 10, n.RepetitionPenalty, "(0, 10]", lowOpen: true);
        var frequency = Range(spec.FrequencyPenalty, -2, 2, n.FrequencyPenalty, "[-2, 2]", lowOpen: false);
        var presence = Range(spec.PresencePenalty, -2, 2, n.PresencePenalty, "[-2, 2]", lowOpen: false);
        if (spec.TopLogProbs is < 0 or > 20)
        {
            throw InferenceException.Invalid($"{n.TopLogProbs} = {spec.TopLogProbs} is out of range [0, 20].", n.TopLogProbs);
        }

        for (var i = 0; i < spec.StopTokenIds.Count; i++)
        {
            if ((uint)spec.StopTokenIds[i] >= (uint)vocab)
            {
                throw InferenceException.Invalid($"{n.StopTokenIds}[{i}] = {spec.StopTokenIds[i]} is not a token id of model '{model.Name}' (0..{vocab - 1}).", n.StopTokenIds);
            }
        }

        return new SequenceRequest
        {
            PromptTokens = prompt,
            MaxTokens = maxTokens,
            MinTokens = spec.MinTokens,
            Sampling = new SamplingParams
            {
                Temperature = (float)temperature,
                TopK = spec.TopK,
                TopP = (float)topP,
                MinP = (float)minP,
                RepetitionPenalty = (float)repetition,
                FrequencyPenalty = (float)frequency,
                PresencePenalty = (float)presence,
                Seed = spec.Seed,
                TopLogProbs = spec.LogProbs ? spec.TopLogProbs : 0,
            },
            Stop = spec.Stop,
            StopTokenIds = spec.StopTokenIds,
            EndTokenIds = model.Chat.EndOfTurnTokenIds,
            IgnoreEos = spec.IgnoreEos,
            IncludeStopInOutput = spec.IncludeStopInOutput,
            LogProbs = spec.LogProbs,
            Deadline = spec.Deadline,
            RequestId = spec.RequestId,
        };
    }

    private static ChatFormat ChatFormatOf(GenerationSpec spec, ServedModel model)
    {
        try
        {
            return model.Chat.Resolve(spec.ChatTemplate);
        }
        catch (ChatFormatException ex)
        {
            throw InferenceException.Invalid($"Model '{model.Name}': {ex.Message}", spec.ChatTemplate is null ? "messages" : "chat_template");
        }
    }

    private static string Render(ChatFormat format, GenerationSpec spec, string modelName)
    {
        try
        {
            return format.Render(spec.Messages!, spec.AddGenerationPrompt, spec.ChatTemplateKwargs);
        }
        catch (ChatFormatException ex)
        {
            throw InferenceException.Invalid($"Model '{modelName}' ({format.Kind} chat template): {ex.Message}", "messages");
        }
    }

    private static void ValidateStops(IReadOnlyList<string> stops, string field, GenerationLimits limits)
    {
        if (stops.Count > limits.MaxStops)
        {
            throw InferenceException.Invalid($"{field} has {stops.Count} sequences; at most {limits.MaxStops} are allowed.", field);
        }

        for (var i = 0; i < stops.Count; i++)
        {
            // Every character is at least one byte: a long one is refused without encoding it.
            if (stops[i].Length > limits.MaxStopBytes)
            {
                throw InferenceException.Invalid($"{field}[{i}] has {stops[i].Length} characters; a stop sequence must be 1 to {limits.MaxStopBytes} UTF-8 bytes.", field);
            }

            int bytes;
            try
            {
                bytes = StrictUtf8.GetByteCount(stops[i]);
            }
            catch (EncoderFallbackException)
            {
                throw InferenceException.Invalid($"{field}[{i}] is not valid Unicode text (it holds an unpaired surrogate, which has no UTF-8 encoding).", field);
            }

            if (bytes == 0 || bytes > limits.MaxStopBytes)
            {
                throw InferenceException.Invalid($"{field}[{i}] is {bytes} UTF-8 bytes long; a stop sequence must be 1 to {limits.MaxStopBytes} bytes.", field);
            }
        }
    }

    private static double Range(double value, double low, double high, string field, string range, bool lowOpen)
    {
        var ok = double.IsFinite(value) && (lowOpen ? value > low : value >= low) && value <= high;
        return ok ? value : throw InferenceException.Invalid($"{field} = {value.ToString(CultureInfo.InvariantCulture)} is out of range {range}.", field);
    }
}
