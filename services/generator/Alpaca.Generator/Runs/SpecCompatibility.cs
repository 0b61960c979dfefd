using Alpaca.Generator.Seeds;

namespace Alpaca.Generator.Runs;

/// <summary>
/// A stored run resumes only with the same definition of its data: seeds, prompt, target, examples per
/// prompt, prompts per round, sampling seed, extras and cleaning. Anything else (teacher, concurrency,
/// budgets, decoding arguments) may change between sessions.
/// </summary>
internal static class SpecCompatibility
{
    public static void EnsureResumable(SelfInstructRunSpec stored, SelfInstructRunSpec requested)
    {
        Same(nameof(SelfInstructRunSpec.NumInstructions), stored.NumInstructions, requested.NumInstructions);
        Same(nameof(SelfInstructRunSpec.NumPromptInstructions), stored.NumPromptInstructions, requested.NumPromptInstructions);
        Same(nameof(SelfInstructRunSpec.RequestBatchSize), stored.RequestBatchSize, requested.RequestBatchSize);
        Same(nameof(SelfInstructRunSpec.DedupExtras), stored.DedupExtras, requested.DedupExtras);
        Same(nameof(SelfInstructRunSpec.CleaningChecks), stored.CleaningChecks, requested.CleaningChecks);
        if (requested.Seed is { } seed)
        {
            Same(nameof(SelfInstructRunSpec.Seed), stored.Seed, seed);
        }

        if (stored.PromptText != requested.PromptText)
        {
            Mismatch(stored.RunId, nameof(SelfInstructRunSpec.PromptText), "a different prompt text", $"'{requested.PromptSource}'");
        }

        if (stored.Seeds.Count != requested.Seeds.Count || !stored.Seeds.SequenceEqual(requested.Seeds))
        {
            Mismatch(stored.RunId, nameof(SelfInstructRunSpec.Seeds), $"{stored.Seeds.Count} stored seed tasks", $"{requested.Seeds.Count} different ones");
        }

        void Same<T>(string field, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
            {
                Mismatch(stored.RunId, field, $"{a}", $"{b}");
            }
        }
    }

    private static void Mismatch(string runId, string field, string stored, string given) =>
        throw new GeneratorInputException(
            $"Run '{runId}' already exists with {field} = {stored}; this request gives {given}. Resume it with the same settings, or start a new run (another run id or output folder).");
}
