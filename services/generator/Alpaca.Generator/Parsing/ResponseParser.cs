using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Alpaca.Generator.Parsing.Cleaning;
using Alpaca.Generator.Prompts;
using Alpaca.Reference;

namespace Alpaca.Generator.Parsing;

/// <summary>
/// <c>post_process_gpt3_response</c> of generate_instruction.py, exactly:
/// <list type="number">
/// <item>prepend <c>"{n+1}. Instruction:"</c> (the prompt ended with it) and split on <c>###</c>;</item>
/// <item>skip the last segment when the reply stopped for length (likely cut off);</item>
/// <item>segment i must split on <c>"{n+1+i}\.\s+(Instruction|Input|Output):"</c> into exactly 7 parts
/// (the number is positional: a skipped or repeated number drops the item);</item>
/// <item>strip the three fields; an input of <c>&lt;noinput&gt;</c> (any case) becomes "";</item>
/// <item>apply <see cref="InstructionFilters"/>.</item>
/// </list>
/// Segments where the teacher wrote nothing but whitespace (the tail after the last <c>###</c> when it hit
/// the stop sequence, or an empty reply) are not items and are not counted; the reference skips them as
/// malformed. With <see cref="Cleaning"/> set, the optional
/// AlpacaDataCleaned checks run after the reference filters.
/// </summary>
public sealed class ResponseParser
{
    private static readonly ConcurrentDictionary<int, Regex> ItemSplitters = new();

    public ResponseParser(int numPromptInstructions, CleaningChecks? cleaning = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numPromptInstructions, 1);
        NumPromptInstructions = numPromptInstructions;
        Cleaning = cleaning;
    }

    public int NumPromptInstructions { get; }

    public CleaningChecks? Cleaning { get; }

    /// <summary>Parses one completion; a null text (no reply) gives no items.</summary>
    public IReadOnlyList<ParsedItem> Parse(string? text, string? finishReason)
    {
        if (text is null)
        {
            return [];
        }

        var first = NumPromptInstructions + 1;
        var header = $"{first}. Instruction:";
        var raw = header + text;
        var segments = raw.Split("###");
        var truncated = finishReason == "length";
        var items = new List<ParsedItem>(segments.Length);
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var number = first + i;
            // Only the teacher's own text counts: the first segment starts with the header we added.
            if (PyStr.Strip(i == 0 ? segment[header.Length..] : segment).Length == 0)
            {
                continue;
            }

            if (i == segments.Length - 1 && truncated)
            {
                items.Add(Rejected(i, number, RejectionReason.Truncated));
                continue;
            }

            var parts = Splitter(number).Split(segment);
            if (parts.Length != 7)
            {
                items.Add(Rejected(i, number, RejectionReason.Malformed));
                continue;
            }

            var instruction = PyStr.Strip(parts[2]);
            var input = PyStr.Strip(parts[4]);
            // input.lower() == "<noinput>": for an ASCII target, the ASCII part of Python's lower() decides.
            if (PyStr.LowerAscii(input) == PromptEncoder.NoInput)
            {
                input = "";
            }

            var output = PyStr.Strip(parts[6]);
            var rejection = InstructionFilters.Check(instruction);
            IReadOnlyList<string> cleaned = [];
            if (rejection is null && Cleaning is not null)
            {
                (rejection, input, cleaned) = Cleaning.Apply(instruction, input, output);
            }

            items.Add(new ParsedItem(i, number, instruction, input, output, rejection, cleaned));
        }

        return items;
    }

    private static ParsedItem Rejected(int segment, int number, RejectionReason reason) =>
        new(segment, number, "", "", "", reason, []);

    /// <summary><c>re.compile(f"{idx}\.\s+(Instruction|Input|Output):")</c> with Python's <c>\s</c>; the capture keeps the labels in the split.</summary>
    private static Regex Splitter(int number) => ItemSplitters.GetOrAdd(number, n => new Regex(
        n.ToString(CultureInfo.InvariantCulture) + @"\." + PyRe.WhitespaceClass + "+(Instruction|Input|Output):",
        RegexOptions.CultureInvariant));
}
