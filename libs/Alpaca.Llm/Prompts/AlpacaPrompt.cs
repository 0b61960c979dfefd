using Alpaca.Reference;

namespace Alpaca.Llm.Prompts;

/// <summary>
/// The Alpaca prompt: stanford_alpaca train.py's <c>PROMPT_DICT</c>, verbatim, filled exactly as train.py
/// fills it (<c>PROMPT_DICT[...].format_map(example)</c>). This one class is what training, serving and
/// evaluation use, so a model is served with the prompt it was trained on, byte for byte.
/// There is no newline or space after "### Response:"; the response follows it directly.
/// </summary>
public static class AlpacaPrompt
{
    /// <summary><c>PROMPT_DICT["prompt_input"]</c>.</summary>
    public const string PromptInput =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";

    /// <summary><c>PROMPT_DICT["prompt_no_input"]</c>.</summary>
    public const string PromptNoInput =
        "Below is an instruction that describes a task. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\n{instruction}\n\n### Response:";

    /// <summary>
    /// The source (prompt) text. train.py chooses <c>prompt_input</c> iff
    /// <c>example.get("input", "") != ""</c>: an absent (null) or empty input means no input, while an input
    /// of only whitespace still counts as an input.
    /// </summary>
    public static string Build(string instruction, string? input = null)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        return string.IsNullOrEmpty(input)
            ? PyFormat.FormatMap(PromptNoInput, new Dictionary<string, string> { ["instruction"] = instruction })
            : PyFormat.FormatMap(PromptInput, new Dictionary<string, string> { ["instruction"] = instruction, ["input"] = input });
    }
}
