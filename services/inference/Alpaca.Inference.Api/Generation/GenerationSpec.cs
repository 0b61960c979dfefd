using System.Text.Json.Nodes;
using Alpaca.Llm.Chat;

namespace Alpaca.Inference.Api.Generation;

/// <summary>
/// A generation request as every front door (gRPC, the OpenAI API and <c>alpaca generate</c>) describes it, before validation.
/// Null sampling values take the contract's defaults.
/// </summary>
public sealed record GenerationSpec
{
    public string? Model { get; init; }

    /// <summary>A raw prompt (used as is) — or, when <see cref="Instruction"/> is set, ignored.</summary>
    public string? Prompt { get; init; }

    /// <summary>An Alpaca instruction, wrapped in the Alpaca template with <see cref="Input"/>.</summary>
    public string? Instruction { get; init; }

    public string? Input { get; init; }

    /// <summary>A conversation, rendered by the model's chat format (or <see cref="ChatTemplate"/>); takes precedence over the prompt.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>Per-request chat format choice (<see cref="ModelChat"/>: "alpaca", "model", or a template's text); null = the model's.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Further template variables (vLLM's chat_template_kwargs).</summary>
    public IReadOnlyDictionary<string, JsonNode?>? ChatTemplateKwargs { get; init; }

    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>Maximum new tokens; null = <see cref="DefaultMaxTokens"/>.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Used when <see cref="MaxTokens"/> is null; null = whatever the context has left.</summary>
    public int? DefaultMaxTokens { get; init; } = 256;

    public int MinTokens { get; init; }

    public double? Temperature { get; init; }

    public int TopK { get; init; }

    public double? TopP { get; init; }

    public double MinP { get; init; }

    public double? RepetitionPenalty { get; init; }

    public double FrequencyPenalty { get; init; }

    public double PresencePenalty { get; init; }

    public ulong? Seed { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    public bool IgnoreEos { get; init; }

    public bool IncludeStopInOutput { get; init; }

    public bool LogProbs { get; init; }

    public int TopLogProbs { get; init; }

    public string RequestId { get; init; } = "";

    public DateTime? Deadline { get; init; }

    /// <summary>Field names for messages: gRPC's (<c>sampling.temperature</c>) or OpenAI's (<c>temperature</c>).</summary>
    public FieldNames Names { get; init; } = FieldNames.Grpc;
}

/// <summary>How a front door names the fields, so an error message points at the field the caller sent.</summary>
public sealed record FieldNames(string Prompt, string MaxTokens, string MinTokens, string Temperature, string TopK, string TopP, string MinP, string RepetitionPenalty, string FrequencyPenalty, string PresencePenalty, string Stop, string StopTokenIds, string TopLogProbs, string RequestId)
{
    public static readonly FieldNames Grpc = new("prompt", "stopping.max_tokens", "stopping.min_tokens", "sampling.temperature", "sampling.top_k", "sampling.top_p", "sampling.min_p", "sampling.repetition_penalty", "sampling.frequency_penalty", "sampling.presence_penalty", "stopping.stop", "stopping.stop_token_ids", "logprobs.top_logprobs", "request_id");

    public static readonly FieldNames OpenAi = new("prompt", "max_tokens", "min_tokens", "temperature", "top_k", "top_p", "min_p", "repetition_penalty", "frequency_penalty", "presence_penalty", "stop", "stop_token_ids", "top_logprobs", "user");

    /// <summary>The options of <c>alpaca generate</c>.</summary>
    public static readonly FieldNames Cli = new("--prompt", "--max-tokens", "--min-tokens", "--temperature", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--frequency-penalty", "--presence-penalty", "--stop", "--stop-token-id", "--top-logprobs", "--request-id");
}
