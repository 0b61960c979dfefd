using System.Text.Json;
using System.Text.RegularExpressions;

namespace Alpaca.TestSupport.Teacher;

/// <summary>One record of the released <c>alpaca_data.json</c>.</summary>
public sealed record ReleasedRecord(string Instruction, string Input, string Output);

/// <summary>
/// Records of the released <c>alpaca_data.json</c> that can travel inside a numbered teacher reply unchanged:
/// fields without surrounding whitespace, <c>###</c> or anything that looks like an item header, and an
/// instruction that starts with an ASCII letter. The release was de-duplicated greedily against the seeds
/// and every earlier record, and ROUGE-L F1 is symmetric, so any of them in any order, and against the seeds,
/// stays at or below 0.7: every one is kept unless it is an exact repeat.
/// </summary>
public static partial class AlpacaRecords
{
    private static readonly Lazy<IReadOnlyList<ReleasedRecord>> Lazy = new(Load);

    public static IReadOnlyList<ReleasedRecord> Usable => Lazy.Value;

    /// <summary>The instructions of an <c>alpaca_data.json</c> (a generated data set), in order.</summary>
    public static List<string> Instructions(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.EnumerateArray().Select(r => r.GetProperty("instruction").GetString()!).ToList();
    }

    [GeneratedRegex(@"\d+\.\s+(Instruction|Input|Output):|###|<noinput>", RegexOptions.IgnoreCase)]
    private static partial Regex Troublesome();

    private static List<ReleasedRecord> Load()
    {
        using var stream = File.OpenRead(RepoPaths.Data("alpaca_data.json"));
        var all = JsonSerializer.Deserialize<List<Dictionary<string, string>>>(stream)!;
        return all
            .Select(r => new ReleasedRecord(r["instruction"], r["input"], r["output"]))
            .Where(r => Clean(r.Instruction) && (r.Input.Length == 0 || Clean(r.Input)) && Clean(r.Output))
            .Where(r => char.IsAsciiLetter(r.Instruction[0]) && !r.Instruction.StartsWith("Write a program", StringComparison.Ordinal))
            .Where(r => r.Instruction.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length is > 3 and <= 60)
            .ToList();
    }

    private static bool Clean(string s) =>
        s.Length > 0 && s == s.Trim() && !s.Contains('\r', StringComparison.Ordinal) && !Troublesome().IsMatch(s);
}
