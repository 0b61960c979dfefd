namespace Alpaca.Generator.Teacher;

/// <summary>The teacher's answer to one prompt.</summary>
/// <param name="Text">Completion text; null when the reply was unusable.</param>
/// <param name="FinishReason">OpenAI <c>finish_reason</c> ("stop", "length", …).</param>
/// <param name="Garbage">Why the reply could not be read (bad JSON, no choices, …); null for a readable reply.</param>
public sealed record TeacherCompletion(string? Text, string? FinishReason, string? Garbage = null)
{
    public static TeacherCompletion Unreadable(string why) => new(null, null, why);
}

/// <summary>Token counts of one or more requests.</summary>
public readonly record struct TokenUsage(long PromptTokens, long CompletionTokens)
{
    public long TotalTokens => PromptTokens + CompletionTokens;

    public static TokenUsage operator +(TokenUsage a, TokenUsage b) =>
        new(a.PromptTokens + b.PromptTokens, a.CompletionTokens + b.CompletionTokens);
}

/// <summary>The answers to a round's prompts, in prompt order, with what they cost.</summary>
/// <param name="Completions">One per prompt.</param>
/// <param name="Usage">Tokens reported by the teacher.</param>
/// <param name="Retries">Requests that failed and were retried (429, 5xx, timeouts, transport errors).</param>
/// <param name="ContextShrinks">Times max_tokens was cut to 80% because the context was exceeded.</param>
public sealed record TeacherBatch(IReadOnlyList<TeacherCompletion> Completions, TokenUsage Usage, int Retries, int ContextShrinks);
