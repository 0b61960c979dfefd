using System.Text;

namespace Alpaca.TestSupport.Teacher;

/// <summary>A reply to one prompt: text after the prompt's final "4. Instruction:", and its finish_reason.</summary>
public sealed record PlannedReply(string Text, string FinishReason);

/// <summary>
/// Teacher replies in the reference's numbered format, built from released Alpaca records with defects mixed
/// in, and the outcome of every item written down as it is made: the expected counters come from how the
/// replies were built, not from the code under test. Items: kept records, exact repeats of an instruction
/// written earlier (ROUGE-L 1.0), ≤ 3 words, > 150 words, a blacklisted word, "Write a program", punctuation
/// or a non-ASCII character first, a missing Output field (malformed), and a last item cut off by the token
/// limit (finish_reason "length": truncated). Rounds are added until the kept items reach the target; the
/// kept items of the last round beyond it are the expected surplus.
/// </summary>
public sealed class ReplyPlan
{
    private static readonly string[] Short = ["Summarize the text.", "Name three fruits.", "Define entropy.", "Translate into French."];
    private static readonly string[] Blacklisted = [" Then draw it.", " Include a diagram of it.", " Add a plot of the results.", " Attach an image too."];
    private static readonly string[] Punctuation = ["(", "\"", "*", "- "];
    private static readonly string[] NonAscii = ["É", "¿", "“", "Ω "];

    private readonly Random _rng;
    private readonly Queue<ReleasedRecord> _records;
    private readonly List<PlannedReply> _replies = [];
    private int _next;

    public ReplyPlan(int seed, int target, int batch, int extraRounds = 0)
    {
        _rng = new Random(seed);
        _records = new Queue<ReleasedRecord>(AlpacaRecords.Usable.OrderBy(_ => _rng.Next()));
        Target = target;
        while (KeptInstructions.Count < target)
        {
            AddRound(batch);
        }

        Surplus = KeptInstructions.Count - target;
        ScriptRounds = Rounds;

        // Rounds past the target, for runs that lose rounds in flight (a killed process) and ask again.
        for (var i = 0; i < extraRounds; i++)
        {
            AddRound(batch);
        }
    }

    public int Target { get; }

    /// <summary>Rounds it takes to reach the target (before the extra rounds).</summary>
    public int ScriptRounds { get; }

    public int Rounds { get; private set; }

    /// <summary>Rejections expected over the first <see cref="ScriptRounds"/> rounds, by the generator's reason keys.</summary>
    public Dictionary<string, long> ExpectedRejections { get; } = new(StringComparer.Ordinal);

    /// <summary>Items expected to be counted as generated over the first <see cref="ScriptRounds"/> rounds.</summary>
    public long ExpectedGenerated { get; private set; }

    /// <summary>Expected kept candidates beyond the target in the last scripted round.</summary>
    public int Surplus { get; }

    /// <summary>Instructions the dedup must keep, in decision order (the first <see cref="Target"/> are the dataset).</summary>
    public List<string> KeptInstructions { get; } = [];

    /// <summary>Every instruction planned to be kept, including the extra rounds (for the restart test).</summary>
    public HashSet<string> AllKeepable { get; } = new(StringComparer.Ordinal);

    /// <summary>The reply to the next prompt; past the end of the plan an empty reply.</summary>
    public PlannedReply Next()
    {
        var i = Interlocked.Increment(ref _next) - 1;
        return i < _replies.Count ? _replies[i] : new PlannedReply("", "stop");
    }

    /// <summary>Kept items per scripted round, in round order.</summary>
    public List<int> KeptPerRound { get; } = [];

    private void AddRound(int batch)
    {
        var counting = KeptInstructions.Count < Target;
        var before = KeptInstructions.Count;
        for (var p = 0; p < batch; p++)
        {
            _replies.Add(Reply(counting));
        }

        if (counting)
        {
            KeptPerRound.Add(KeptInstructions.Count - before);
        }

        Rounds++;
    }

    private PlannedReply Reply(bool counting)
    {
        var sb = new StringBuilder();
        var count = _rng.Next(3, 9);
        var truncate = _rng.NextDouble() < 0.25;
        for (var i = 0; i < count; i++)
        {
            var number = 4 + i;
            if (i > 0)
            {
                sb.Append("\n\n###\n").Append(number).Append(". Instruction:");
            }

            var record = _records.Dequeue();
            if (i == count - 1 && truncate)
            {
                // Cut off by the token limit inside the item: the parser drops the last segment.
                sb.Append(' ').Append(record.Instruction).Append('\n').Append(number).Append(". Input:\n");
                Count(counting, "truncated");
                return new PlannedReply(sb.ToString(), "length");
            }

            AppendItem(sb, number, record, counting);
        }

        // What the teacher wrote before the "\n20"-style stop sequence ended it: a separator and nothing else.
        sb.Append("\n\n###\n");
        return new PlannedReply(sb.ToString(), "stop");
    }

    private void AppendItem(StringBuilder sb, int number, ReleasedRecord record, bool counting)
    {
        var instruction = record.Instruction;
        var omitOutput = false;
        var x = _rng.NextDouble();
        string? reason;
        switch (x)
        {
            case < 0.55:
                reason = null;
                if (counting)
                {
                    KeptInstructions.Add(instruction);
                }

                AllKeepable.Add(instruction);
                break;
            case < 0.63 when AllKeepable.Count > 0:
                // An exact repeat of an instruction written (and kept) before: ROUGE-L F1 = 1.0.
                instruction = AllKeepable.ElementAt(_rng.Next(AllKeepable.Count));
                reason = "rouge_duplicate";
                break;
            case < 0.67:
                instruction = Short[_rng.Next(Short.Length)];
                reason = "too_short";
                break;
            case < 0.70:
                instruction += " Explain" + string.Concat(Enumerable.Repeat(" very", 150)) + " carefully.";
                reason = "too_long";
                break;
            case < 0.76:
                instruction += Blacklisted[_rng.Next(Blacklisted.Length)];
                reason = "blacklist";
                break;
            case < 0.80:
                instruction = "Write a program that can " + char.ToLowerInvariant(instruction[0]) + instruction[1..];
                reason = "write_a_program";
                break;
            case < 0.84:
                instruction = Punctuation[_rng.Next(Punctuation.Length)] + instruction;
                reason = "starts_with_punctuation";
                break;
            case < 0.88:
                instruction = NonAscii[_rng.Next(NonAscii.Length)] + instruction;
                reason = "starts_with_non_ascii";
                break;
            default:
                omitOutput = true;
                reason = "malformed";
                break;
        }

        Count(counting, reason);
        var input = record.Input.Length == 0 ? (_rng.NextDouble() < 0.8 ? "<noinput>" : "<NoInput>") : record.Input;
        sb.Append(' ').Append(instruction).Append('\n').Append(number).Append(". Input:\n").Append(input);
        if (!omitOutput)
        {
            sb.Append('\n').Append(number).Append(". Output:\n").Append(record.Output);
        }
    }

    private void Count(bool counting, string? reason)
    {
        if (!counting)
        {
            return;
        }

        ExpectedGenerated++;
        if (reason is not null)
        {
            ExpectedRejections[reason] = ExpectedRejections.GetValueOrDefault(reason) + 1;
        }
    }
}
