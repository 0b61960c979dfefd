namespace Alpaca.Trainer.Data;

/// <summary>
/// stanford_alpaca's <c>PROMPT_DICT</c>, verbatim. There is no newline or space after
/// "### Response:"; the response follows it directly. <c>prompt_input</c> is chosen iff the input is
/// not the empty string (an input of only whitespace still counts as an input, as in
/// <c>example.get("input", "") != ""</c>).
/// </summary>
public static class PromptTemplates
{
    public const string PromptInput =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";

    public const string PromptNoInput =
        "Below is an instruction that describes a task. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\n{instruction}\n\n### Response:";

    /// <summary>The source (prompt) text of a record, as <c>template.format_map(example)</c>.</summary>
    public static string BuildSource(AlpacaRecord record) => record.Input != string.Empty
        ? PromptInput.Replace("{instruction}", record.Instruction, StringComparison.Ordinal)
            .Replace("{input}", record.Input, StringComparison.Ordinal)
        : PromptNoInput.Replace("{instruction}", record.Instruction, StringComparison.Ordinal);
}
