namespace Alpaca.Generator.Api.Configuration;

/// <summary>
/// Configuration section <c>Alpaca:Generator:Limits</c> (environment: <c>Alpaca__Generator__Limits__MaxSeedTasks</c> …):
/// how large a StartRun request may be. Checked before the spec is built, a seed file read or a teacher called.
/// </summary>
public sealed class GeneratorLimits
{
    /// <summary>Inline seed tasks per run (the reference's seed file has 175).</summary>
    public int MaxSeedTasks { get; set; } = 10_000;

    /// <summary>Characters of a seed task's instruction, input or output, and of an inline prompt.</summary>
    public int MaxTextChars { get; set; } = 100_000;

    /// <summary>Characters of the short fields: ids, names, URLs, paths, the teacher's model.</summary>
    public int MaxFieldChars { get; set; } = 2048;

    /// <summary>Instructions a run may target.</summary>
    public int MaxNumInstructions { get; set; } = 1_000_000;

    /// <summary>Prompts per teacher request (sampling.request_batch_size; the reference uses 5).</summary>
    public int MaxRequestBatchSize { get; set; } = 100;

    /// <summary>Seed examples per prompt (sampling.num_prompt_instructions; the reference uses 3).</summary>
    public int MaxPromptInstructions { get; set; } = 50;

    /// <summary>Tokens per teacher completion (sampling.max_tokens; the reference asks 3072).</summary>
    public int MaxTeacherTokens { get; set; } = 32_768;

    /// <summary>Stop sequences, and characters of each.</summary>
    public int MaxStops { get; set; } = 16;

    public int MaxStopChars { get; set; } = 256;

    /// <summary>Rounds in flight at once (spec.teacher.concurrency).</summary>
    public int MaxConcurrency { get; set; } = 32;

    /// <summary>Retries of one teacher request (spec.teacher.max_retries).</summary>
    public int MaxRetries { get; set; } = 20;

    /// <summary>Timeout of one teacher request (spec.teacher.request_timeout).</summary>
    public TimeSpan MaxRequestTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a teacher may stay unreachable (spec.teacher.unreachable_budget).</summary>
    public TimeSpan MaxUnreachableBudget { get; set; } = TimeSpan.FromHours(24);
}
