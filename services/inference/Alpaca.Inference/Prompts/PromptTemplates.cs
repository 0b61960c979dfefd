using Alpaca.Llm.Prompts;

namespace Alpaca.Inference.Prompts;

/// <summary>
/// The named prompt templates a caller can choose. "alpaca" is <see cref="AlpacaPrompt"/>, the very code the
/// trainer builds its training prompts with, so a model is served with the prompt it was trained on.
/// </summary>
public static class PromptTemplates
{
    /// <summary>Applies a named template: "alpaca" or "raw" (the text as given; an input is appended after a blank line).</summary>
    public static string Apply(string template, string prompt, string? input = null) => template.ToLowerInvariant() switch
    {
        "alpaca" => AlpacaPrompt.Build(prompt, input),
        "raw" => string.IsNullOrEmpty(input) ? prompt : prompt + "\n\n" + input,
        _ => throw new ArgumentException($"Unknown template '{template}': use alpaca or raw."),
    };
}
