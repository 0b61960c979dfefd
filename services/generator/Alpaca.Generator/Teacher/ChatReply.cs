using Alpaca.Reference;

namespace Alpaca.Generator.Teacher;

/// <summary>
/// A completion model continues right after the prompt's final <c>"4. Instruction:"</c>; a chat model
/// answers in a new message and often repeats that header first. Removing one leading repeat lets the
/// reference parser (which re-adds the header) see the same text a completion model would give.
/// </summary>
public static class ChatReply
{
    public static string StripEchoedHeader(string text, int firstNumber)
    {
        var header = $"{firstNumber}. Instruction:";
        var start = 0;
        while (start < text.Length && PyStr.IsSpace(text[start]))
        {
            start++;
        }

        return string.CompareOrdinal(text, start, header, 0, header.Length) == 0 ? text[(start + header.Length)..] : text;
    }
}
