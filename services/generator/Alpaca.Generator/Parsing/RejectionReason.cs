namespace Alpaca.Generator.Parsing;

/// <summary>Why a generated item was not kept. The first group is the reference's, in its order.</summary>
public enum RejectionReason
{
    /// <summary>The last item of a reply cut off by the token limit (<c>finish_reason == "length"</c>).</summary>
    Truncated,

    /// <summary>The item did not split into exactly 7 parts on <c>N. Instruction/Input/Output:</c> with the expected N.</summary>
    Malformed,

    /// <summary>Instruction of 3 words or fewer.</summary>
    TooShort,

    /// <summary>Instruction of more than 150 words.</summary>
    TooLong,

    /// <summary>Instruction contains a blacklisted word (image, graph, file, map, draw, plot, go to, video, …).</summary>
    Blacklisted,

    /// <summary>Instruction starts with "Write a program".</summary>
    WriteAProgram,

    /// <summary>Instruction starts with an ASCII punctuation character.</summary>
    StartsWithPunctuation,

    /// <summary>Instruction starts with a non-ASCII character.</summary>
    StartsWithNonAscii,

    /// <summary>ROUGE-L F1 above 0.7 against the seeds or a kept instruction.</summary>
    RougeDuplicate,

    // Optional AlpacaDataCleaned checks (beyond the reference).

    /// <summary>The output contains a following <c>N. Instruction:</c> block (two items merged by the parser).</summary>
    MergedInstruction,

    /// <summary>The output is empty.</summary>
    EmptyOutput,

    /// <summary>The output is a "not applicable" marker (<c>N/A</c>, <c>&lt;No Output&gt;</c>, …).</summary>
    NaOutput,

    /// <summary>The instruction or input needs an image, an attachment or a URL the model cannot see.</summary>
    NeedsImageOrUrl,
}

/// <summary>Stable snake_case names of the reasons, used in counters, files and events.</summary>
public static class RejectionReasons
{
    public static string Key(this RejectionReason reason) => reason switch
    {
        RejectionReason.Truncated => "truncated",
        RejectionReason.Malformed => "malformed",
        RejectionReason.TooShort => "too_short",
        RejectionReason.TooLong => "too_long",
        RejectionReason.Blacklisted => "blacklist",
        RejectionReason.WriteAProgram => "write_a_program",
        RejectionReason.StartsWithPunctuation => "starts_with_punctuation",
        RejectionReason.StartsWithNonAscii => "starts_with_non_ascii",
        RejectionReason.RougeDuplicate => "rouge_duplicate",
        RejectionReason.MergedInstruction => "merged_instruction",
        RejectionReason.EmptyOutput => "empty_output",
        RejectionReason.NaOutput => "na_output",
        RejectionReason.NeedsImageOrUrl => "needs_image_or_url",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
