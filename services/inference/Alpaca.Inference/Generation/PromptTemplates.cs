namespace Alpaca.Inference.Generation;

/// <summary>Prompt templates. The Alpaca ones are stanford_alpaca's PROMPT_DICT, verbatim.</summary>
public static class PromptTemplates
{
    public const string AlpacaWithInput =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";

    public const string AlpacaNoInput =
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\n{instruction}\n\n### Response:";

    /// <summary>
    /// train.py's choice: the input template iff the input is not the empty string (whitespace counts as
    /// input). Substitution is literal, as Python's format_map with plain strings.
    /// </summary>
    public static string Alpaca(string instruction, string? input = null) =>
        string.IsNullOrEmpty(input)
            ? AlpacaNoInput.Replace("{instruction}", instruction, StringComparison.Ordinal)
            : FillWithInput(instruction, input);

    /// <summary>Applies a named template: "alpaca" or "raw" (the text as given; an input is appended after a blank line).</summary>
    public static string Apply(string template, string prompt, string? input = null) => template.ToLowerInvariant() switch
    {
        "alpaca" => Alpaca(prompt, input),
        "raw" => string.IsNullOrEmpty(input) ? prompt : prompt + "\n\n" + input,
        _ => throw new ArgumentException($"Unknown template '{template}': use alpaca or raw."),
    };

    // Both placeholders are replaced in one left-to-right pass, so an instruction that itself contains
    // "{input}" stays literal (format_map does not re-scan substituted text).
    private static string FillWithInput(string instruction, string input)
    {
        var i = AlpacaWithInput.IndexOf("{instruction}", StringComparison.Ordinal);
        var j = AlpacaWithInput.IndexOf("{input}", StringComparison.Ordinal);
        return AlpacaWithInput[..i] + instruction + AlpacaWithInput[(i + "{instruction}".Length)..j] + input + AlpacaWithInput[(j + "{input}".Length)..];
    }
}
