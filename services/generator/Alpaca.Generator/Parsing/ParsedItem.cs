namespace Alpaca.Generator.Parsing;

/// <summary>
/// One <c>###</c>-separated segment of a teacher reply after parsing and filtering.
/// </summary>
/// <param name="Segment">0-based segment index in the reply (stable: used in candidate ids).</param>
/// <param name="Number">The item number the parser expected (num_prompt_instructions + 1 + segment).</param>
/// <param name="Instruction">Parsed instruction (empty when the segment was malformed or truncated).</param>
/// <param name="Input">Parsed input, "" for <c>&lt;noinput&gt;</c>.</param>
/// <param name="Output">Parsed output.</param>
/// <param name="Rejection">Null when the item passed; otherwise why it was dropped.</param>
/// <param name="Cleaned">Names of the cleaning fixes applied to the item (e.g. "no_input_spelling").</param>
public sealed record ParsedItem(
    int Segment,
    int Number,
    string Instruction,
    string Input,
    string Output,
    RejectionReason? Rejection,
    IReadOnlyList<string> Cleaned)
{
    public bool Accepted => Rejection is null;
}
