using System.Text;

namespace Alpaca.Generator.Tests.Support;

/// <summary>The fate of one scripted item, known to the script when it writes the item.</summary>
public enum Fate
{
    Kept,
    RougeDuplicate,
    TooShort,
    TooLong,
    Blacklisted,
    WriteAProgram,
    StartsWithPunctuation,
    StartsWithNonAscii,
    Malformed,
    Truncated,
}

/// <summary>
/// Teacher replies in the reference's numbered format (what text-davinci-003 wrote after the prompt's final
/// "4. Instruction:"), built from real Alpaca records with defective items mixed in: exact duplicates,
/// near-duplicates of seeds (per the reference's golden decisions), too short/long, blacklisted, "Write a
/// program", punctuation or non-ASCII first, wrong item numbers, missing fields, and replies cut off for
/// length. The script writes down the fate of every item as it makes it, so the expected counts come from
/// how the replies were built, not from the code under test.
/// </summary>
public sealed class ReplyScript
{
    private readonly Random _rng;
    private readonly Queue<Item> _unique;
    private readonly Queue<Item> _seedDuplicates;
    private readonly List<Item> _emittedUnique = [];
    private readonly List<ScriptedReply> _replies = [];
    private int _next;

    public ReplyScript(int seed)
    {
        _rng = new Random(seed);
        _unique = new Queue<Item>(TestData.GoldenUnique.OrderBy(_ => _rng.Next()));
        _seedDuplicates = new Queue<Item>(TestData.GoldenSeedDuplicates.OrderBy(_ => _rng.Next()));
    }

    public Dictionary<Fate, int> Expected { get; } = Enum.GetValues<Fate>().ToDictionary(f => f, _ => 0);

    public IReadOnlyList<ScriptedReply> Replies => _replies;

    public IReadOnlyList<Item> KeptItems => _emittedUnique;

    /// <summary>Adds rounds × batch replies; the very last item written is a kept one.</summary>
    public ReplyScript AddRounds(int rounds, int batch, bool mixDefects = true)
    {
        for (var r = 0; r < rounds * batch; r++)
        {
            var last = r == rounds * batch - 1;
            _replies.Add(Reply(mixDefects, forceLastKept: last));
        }

        return this;
    }

    /// <summary>The reply to the next prompt; past the end of the script, an empty reply.</summary>
    public ScriptedReply Next(string prompt)
    {
        var i = Interlocked.Increment(ref _next) - 1;
        return i < _replies.Count ? _replies[i] : new ScriptedReply("");
    }

    public int Consumed => Math.Min(_next, _replies.Count);

    private ScriptedReply Reply(bool mixDefects, bool forceLastKept)
    {
        var sb = new StringBuilder();
        var count = _rng.Next(3, 9);
        var truncate = mixDefects && !forceLastKept && _rng.NextDouble() < 0.25;
        for (var i = 0; i < count; i++)
        {
            var number = 4 + i;
            var isLast = i == count - 1;
            if (i > 0)
            {
                sb.Append("\n\n###\n").Append(number).Append(". Instruction:");
            }

            if (isLast && truncate)
            {
                // Cut off inside the item by the token limit.
                var item = TakeUnique();
                sb.Append(' ').Append(item.Instruction).Append('\n').Append(number).Append(". Input:\n");
                Expected[Fate.Truncated]++;
                return new ScriptedReply(sb.ToString(), "length");
            }

            var fate = isLast && forceLastKept ? Fate.Kept : mixDefects ? PickFate() : Fate.Kept;
            AppendItem(sb, number, fate);
        }

        // The teacher wrote the separator and the next number, where the "\n20"-style stop ends the text.
        sb.Append("\n\n###\n");
        return new ScriptedReply(sb.ToString(), "stop");
    }

    private Fate PickFate()
    {
        var x = _rng.NextDouble();
        return x switch
        {
            < 0.55 => Fate.Kept,
            < 0.62 => Fate.RougeDuplicate,
            < 0.66 => Fate.TooShort,
            < 0.69 => Fate.TooLong,
            < 0.75 => Fate.Blacklisted,
            < 0.79 => Fate.WriteAProgram,
            < 0.83 => Fate.StartsWithPunctuation,
            < 0.87 => Fate.StartsWithNonAscii,
            _ => Fate.Malformed,
        };
    }

    private void AppendItem(StringBuilder sb, int number, Fate fate)
    {
        var item = TakeUnique();
        var instruction = item.Instruction;
        var input = item.Input;
        var output = item.Output;
        var label = number;
        var omitOutput = false;
        switch (fate)
        {
            case Fate.Kept:
                _emittedUnique.Add(item);
                break;
            case Fate.RougeDuplicate:
                // Half exact repeats of an instruction already kept, half near-duplicates of a seed.
                if (_emittedUnique.Count > 0 && (_rng.NextDouble() < 0.5 || _seedDuplicates.Count == 0))
                {
                    instruction = _emittedUnique[_rng.Next(_emittedUnique.Count)].Instruction;
                }
                else
                {
                    var near = _seedDuplicates.Dequeue();
                    (instruction, input, output) = (near.Instruction, near.Input, near.Output);
                }

                break;
            case Fate.TooShort:
                instruction = new[] { "Define entropy.", "Summarize this text.", "Name three fruits.", "Translate into French." }[_rng.Next(4)];
                break;
            case Fate.TooLong:
                instruction += " Explain" + string.Concat(Enumerable.Repeat(" very", 150)) + " carefully.";
                break;
            case Fate.Blacklisted:
                instruction += new[] { " Then draw it.", " Include a Diagram.", " Add a plot of the results.", " Go to the next step." }[_rng.Next(4)];
                break;
            case Fate.WriteAProgram:
                instruction = "Write a program that can " + char.ToLowerInvariant(instruction[0]) + instruction[1..];
                break;
            case Fate.StartsWithPunctuation:
                instruction = new[] { "\"", "(", "*", "- " }[_rng.Next(4)] + instruction;
                break;
            case Fate.StartsWithNonAscii:
                instruction = new[] { "¿", "É", "“", "Ω " }[_rng.Next(4)] + instruction;
                break;
            case Fate.Malformed:
                // The positional parser expects exactly this number and all three fields. (The first item's
                // header is the prompt's own "4. Instruction:", so only a missing field can spoil it.)
                if (number > 4 && _rng.NextDouble() < 0.5)
                {
                    label = number + 1;
                }
                else
                {
                    omitOutput = true;
                }

                break;
        }

        Expected[fate]++;
        var shownInput = input.Length == 0 ? (_rng.NextDouble() < 0.8 ? "<noinput>" : "<NoInput>") : input;
        if (label != number)
        {
            // Replace the header the separator loop wrote for this item.
            sb.Length -= $"{number}. Instruction:".Length;
            sb.Append(label).Append(". Instruction:");
        }

        // (The first item continues the prompt's own "4. Instruction:".)
        sb.Append(' ').Append(instruction);

        sb.Append('\n').Append(label).Append(". Input:\n").Append(shownInput);
        if (!omitOutput)
        {
            sb.Append('\n').Append(label).Append(". Output:\n").Append(output);
        }
    }

    private Item TakeUnique() => _unique.Dequeue();
}
