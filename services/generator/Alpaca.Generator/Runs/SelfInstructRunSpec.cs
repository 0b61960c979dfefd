using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;

namespace Alpaca.Generator.Runs;

/// <summary>
/// Everything a Self-Instruct generation run needs, stored with the run so a restart continues the same run
/// (seeds and prompt text included, so editing the seed file later cannot change a run half way). Defaults
/// are the reference's.
/// </summary>
public sealed partial record SelfInstructRunSpec
{
    /// <summary>Run id: 1–100 characters of [A-Za-z0-9._-] (it names a folder and the dedup namespace).</summary>
    public required string RunId { get; init; }

    public required IReadOnlyList<SeedTask> Seeds { get; init; }

    /// <summary>The prompt template text (see <see cref="Prompts.PromptTemplate"/>).</summary>
    public required string PromptText { get; init; }

    /// <summary>Where the prompt came from (a path, or "default prompt"); informational.</summary>
    public string PromptSource { get; init; } = "";

    /// <summary>Kept instructions to produce; the run stops at exactly this many.</summary>
    public required int NumInstructions { get; init; }

    /// <summary>Folder of regen.json and alpaca_data.json.</summary>
    public required string OutputDir { get; init; }

    /// <summary>Seed examples per prompt (reference: 3).</summary>
    public int NumPromptInstructions { get; init; } = 3;

    /// <summary>Prompts per round (reference: 5).</summary>
    public int RequestBatchSize { get; init; } = 5;

    public TeacherSampling Sampling { get; init; } = new();

    /// <summary>
    /// Seed of the example sampling (prompts are a function of it, the round and the prompt index). Null at
    /// creation draws one, which is stored; null on resume keeps the stored one.
    /// </summary>
    public ulong? Seed { get; init; }

    /// <summary>Attach most_similar_instructions and avg_similarity_score to kept records, as regen.json has.</summary>
    public bool DedupExtras { get; init; }

    /// <summary>Apply the optional AlpacaDataCleaned checks after the reference filters.</summary>
    public bool CleaningChecks { get; init; }

    /// <summary>Rounds in flight at once.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>How long the teacher may stay unreachable (after each request's own retries) before the run fails.</summary>
    public TimeSpan UnreachableBudget { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>First pause before a failed round is tried again; doubles per consecutive failure up to a minute.</summary>
    public TimeSpan PauseDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Rewrite regen.json/alpaca_data.json at most this often while running (always at the end).</summary>
    public TimeSpan ExportInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive rounds without a single parseable item after which the run fails (a teacher answering garbage).</summary>
    public int MaxBarrenRounds { get; init; } = 100;

    /// <summary>Price per 1,000 prompt tokens for the cost estimate (0 = unknown).</summary>
    public double PromptPricePer1K { get; init; }

    /// <summary>Price per 1,000 completion tokens for the cost estimate (0 = unknown).</summary>
    public double CompletionPricePer1K { get; init; }

    /// <summary>Teacher URL and model, for the record.</summary>
    public string Teacher { get; init; } = "";

    [JsonIgnore]
    public string DedupNamespace => $"gen-{RunId}";

    public double EstimateCost(long promptTokens, long completionTokens) =>
        (promptTokens * PromptPricePer1K + completionTokens * CompletionPricePer1K) / 1000.0;

    /// <summary>Throws <see cref="GeneratorInputException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (!RunIdPattern().IsMatch(RunId ?? ""))
        {
            Fail(nameof(RunId), $"'{RunId}' must be 1-100 characters of [A-Za-z0-9._-] and not start with '.'");
        }

        if (Seeds is null || Seeds.Count == 0)
        {
            Fail(nameof(Seeds), "no seed tasks");
        }

        if (string.IsNullOrWhiteSpace(PromptText))
        {
            Fail(nameof(PromptText), "the prompt is empty");
        }

        Positive(nameof(NumInstructions), NumInstructions);
        Positive(nameof(NumPromptInstructions), NumPromptInstructions);
        Positive(nameof(RequestBatchSize), RequestBatchSize);
        Positive(nameof(Concurrency), Concurrency);
        Positive(nameof(MaxBarrenRounds), MaxBarrenRounds);
        Positive("Sampling.MaxTokens", Sampling.MaxTokens);
        if (NumPromptInstructions > Seeds!.Count)
        {
            Fail(nameof(NumPromptInstructions), $"{NumPromptInstructions} examples per prompt but only {Seeds.Count} seed tasks");
        }

        if (string.IsNullOrWhiteSpace(OutputDir))
        {
            Fail(nameof(OutputDir), "no output folder");
        }
    }

    private static void Positive(string field, int value)
    {
        if (value < 1)
        {
            Fail(field, $"must be at least 1, got {value}");
        }
    }

    [DoesNotReturn]
    private static void Fail(string field, string why) => throw new GeneratorInputException($"Run spec field {field}: {why}.");

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex RunIdPattern();
}
