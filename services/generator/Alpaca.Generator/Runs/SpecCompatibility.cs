using Alpaca.Generator.Seeds;

namespace Alpaca.Generator.Runs;

/// <summary>
/// A stored run resumes only with the same definition of its data: seeds, prompt, target, examples per
/// prompt, prompts per round, sampling seed, extras and cleaning. Anything else (teacher, concurrency,
/// budgets, decoding arguments) may change between sessions.
/// </summary>
internal static class SpecCompatibility
{
    public static void EnsureResumable(GenerationSpec stored, GenerationSpec requested)
    {
        Same(nameof(GenerationSpec.NumInstructions), stored.NumInstructions, requested.NumInstructions);
        Same(nameof(GenerationSpec.NumPromptInstructions), stored.NumPromptInstructions, requested.NumPromptInstructions);
        Same(nameof(GenerationSpec.RequestBatchSize), stored.RequestBatchSize, requested.RequestBatchSize);
        Same(nameof(GenerationSpec.DedupExtras), stored.DedupExtras, requested.DedupExtras);
        Same(nameof(GenerationSpec.CleaningChecks), stored.CleaningChecks, requested.CleaningChecks);
        if (requested.Seed is { } seed)
        {
            Same(nameof(GenerationSpec.Seed), stored.Seed, seed);
        }

        if (stored.PromptText != requested.PromptText)
        {
            Mismatch(stored.RunId, nameof(GenerationSpec.PromptText), "a different prompt text", $"'{requested.PromptSource}'");
        }

        if (stored.Seeds.Count != requested.Seeds.Count || !stored.Seeds.SequenceEqual(requested.Seeds))
        {
            Mismatch(stored.RunId, nameof(GenerationSpec.Seeds), $"{stored.Seeds.Count} stored seed tasks", $"{requested.Seeds.Count} different ones");
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
