namespace Alpaca.Generator.Teacher;

/// <summary>How to reach the teacher.</summary>
public sealed record TeacherOptions
{
    /// <summary>Base URL including the version segment, e.g. <c>https://api.openai.com/v1</c> or <c>http://127.0.0.1:8080/v1</c>.</summary>
    public required Uri BaseUrl { get; init; }

    public required string Model { get; init; }

    public TeacherApi Api { get; init; } = TeacherApi.Completions;

    /// <summary>Bearer token; null sends no Authorization header.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Sent as <c>OpenAI-Organization</c> when set (the reference read it from <c>OPENAI_ORG</c>).</summary>
    public string? Organization { get; init; }

    /// <summary>Timeout of one HTTP request (3072 completion tokens take a while on a busy teacher).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public RetryPolicy Retry { get; init; } = new();

    /// <summary>
    /// Which addresses the client may connect to, checked on the resolved address in the connect callback;
    /// null = no check (the CLI's in-process path, where the user is the operator).
    /// </summary>
    public OutboundAddressPolicy? Outbound { get; init; }

    /// <summary>Largest reply body buffered; a larger one fails the request (null = HttpClient's 2 GiB).</summary>
    public long? MaxResponseBytes { get; init; }

    /// <summary>
    /// Completions only: send a round's prompts in one request as a prompt list, as the reference did.
    /// Off sends one request per prompt, for servers that accept a single prompt only.
    /// </summary>
    public bool BatchPrompts { get; init; } = true;

    /// <summary>Price per 1,000 prompt tokens, for cost estimates (0 = unknown).</summary>
    public double PromptPricePer1K { get; init; }

    /// <summary>Price per 1,000 completion tokens, for cost estimates (0 = unknown).</summary>
    public double CompletionPricePer1K { get; init; }

    public double EstimateCost(TokenUsage usage) =>
        (usage.PromptTokens * PromptPricePer1K + usage.CompletionTokens * CompletionPricePer1K) / 1000.0;
}
