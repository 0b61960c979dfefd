using Alpaca.Reference;

namespace Alpaca.Generator.Parsing;

/// <summary>
/// The reference's filters on a parsed instruction, in its order; the first that hits names the reason.
/// Inputs and outputs are not filtered by the reference.
/// </summary>
public static class InstructionFilters
{
    public const int MinWordsExclusive = 3;
    public const int MaxWords = 150;

    /// <summary>Null when the instruction passes every reference filter.</summary>
    public static RejectionReason? Check(string instruction)
    {
        var words = PyStr.SplitCount(instruction);
        if (words <= MinWordsExclusive)
        {
            return RejectionReason.TooShort;
        }

        if (words > MaxWords)
        {
            return RejectionReason.TooLong;
        }

        if (Blacklist.FirstMatch(instruction) is not null)
        {
            return RejectionReason.Blacklisted;
        }

        // The teacher tends to prefix existing tasks with "Write a program"; case-sensitive, as in the reference.
        if (instruction.StartsWith("Write a program", StringComparison.Ordinal))
        {
            return RejectionReason.WriteAProgram;
        }

        // More than three words guarantees a first character.
        var first = PyStr.FirstCodePoint(instruction);
        if (first < 128 && PyStr.Punctuation.Contains((char)first))
        {
            return RejectionReason.StartsWithPunctuation;
        }

        if (first >= 128)
        {
            return RejectionReason.StartsWithNonAscii;
        }

        return null;
    }
}
