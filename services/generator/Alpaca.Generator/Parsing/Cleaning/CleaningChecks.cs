using System.Text.RegularExpressions;
using Alpaca.Reference;

namespace Alpaca.Generator.Parsing.Cleaning;

/// <summary>
/// Optional checks for the defects the AlpacaDataCleaned project found in the released data (beyond the
/// reference, off unless asked for). Each rejects or fixes an item and is counted under its own name:
/// <list type="bullet">
/// <item><b>merged_instruction</b>: the output holds a following <c>N. Instruction:</c> block (their tool's
/// regex <c>\d{1,2}\.\sInstruction:</c>), i.e. two items leaked into one;</item>
/// <item><b>empty_output</b> and <b>na_output</b> (<c>N/A</c>, <c>&lt;No Output&gt;</c>, …);</item>
/// <item><b>no_input_spelling</b> (a fix, not a rejection): other spellings of "no input" such as
/// <c>&lt;no input&gt;</c>, <c>No input</c>, <c>noinput</c> become "" as <c>&lt;noinput&gt;</c> does (their regex
/// <c>[\[\(\&lt;]?no[ ]?input[\]\)\&gt;\.]?</c>, here required to be the whole input);</item>
/// <item><b>needs_image_or_url</b>: the task points at something the model cannot see: a URL, an
/// attachment placeholder like <c>&lt;Picture Attached&gt;</c>, or a photo/screenshot/attachment.</item>
/// </list>
/// </summary>
public sealed partial class CleaningChecks
{
    public const string NoInputSpellingFix = "no_input_spelling";

    public bool RejectMergedInstructions { get; init; } = true;

    public bool RejectEmptyOutputs { get; init; } = true;

    public bool RejectNaOutputs { get; init; } = true;

    public bool NormaliseNoInputSpellings { get; init; } = true;

    public bool RejectImageOrUrlTasks { get; init; } = true;

    /// <summary>Every check on.</summary>
    public static CleaningChecks All { get; } = new();

    /// <summary>Runs after the reference filters passed; returns the rejection (or null), the possibly fixed input, and the fixes made.</summary>
    public (RejectionReason? Rejection, string Input, IReadOnlyList<string> Cleaned) Apply(string instruction, string input, string output)
    {
        var cleaned = new List<string>(1);
        if (NormaliseNoInputSpellings && input.Length > 0 && NoInputSpelling().IsMatch(input))
        {
            input = "";
            cleaned.Add(NoInputSpellingFix);
        }

        if (RejectMergedInstructions && MergedInstruction().IsMatch(output))
        {
            return (RejectionReason.MergedInstruction, input, cleaned);
        }

        if (RejectEmptyOutputs && PyStr.Strip(output).Length == 0)
        {
            return (RejectionReason.EmptyOutput, input, cleaned);
        }

        if (RejectNaOutputs && NaOutput().IsMatch(PyStr.Strip(output)))
        {
            return (RejectionReason.NaOutput, input, cleaned);
        }

        if (RejectImageOrUrlTasks && (NeedsImageOrUrl(instruction) || NeedsImageOrUrl(input)))
        {
            return (RejectionReason.NeedsImageOrUrl, input, cleaned);
        }

        return (null, input, cleaned);
    }

    private static bool NeedsImageOrUrl(string text) =>
        Url().IsMatch(text) || AttachmentPlaceholder().IsMatch(text) || ImageWords().IsMatch(text);

    [GeneratedRegex(@"\d{1,2}\." + PyRe.WhitespaceClass + "Instruction:", RegexOptions.CultureInvariant)]
    private static partial Regex MergedInstruction();

    [GeneratedRegex(@"^[\[\(<]?no ?input[\]\)>\.]?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex NoInputSpelling();

    [GeneratedRegex(@"^(?:<?\s*n/a\s*>?\.?|<\s*no\s*output\s*>\.?|no\s+output\.?|<nooutput>)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex NaOutput();

    [GeneratedRegex(@"(?:\bhttps?://|\bwww\.)\S+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Url();

    [GeneratedRegex(@"<[^<>\n]*\b(?:picture|image|photo|attach\w*)\b[^<>\n]*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AttachmentPlaceholder();

    [GeneratedRegex(@"\b(?:photos?|photographs?|screenshots?|attached|attachments?|urls?|hyperlinks?)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ImageWords();
}
