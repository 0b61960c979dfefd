using System.Text.Json;
using System.Text.RegularExpressions;
using Alpaca.Generator.Seeds;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Support;

/// <summary>An Alpaca record.</summary>
public sealed record Item(string Instruction, string Input, string Output);

/// <summary>
/// Real data for the tests, read by path from the shared folder: the seed tasks, alpaca_data.json, and the
/// golden greedy-dedup stream (decisions made by the Python reference, not by our code).
/// </summary>
public static partial class TestData
{
    private static readonly Lazy<IReadOnlyList<SeedTask>> LazySeeds = new(() => SeedTaskReader.Read(RepoPaths.Data("seed_tasks.jsonl")));
    private static readonly Lazy<IReadOnlyList<Item>> LazyAlpaca = new(LoadAlpaca);
    private static readonly Lazy<(IReadOnlyList<Item> Unique, IReadOnlyList<Item> SeedDuplicates)> LazyGolden = new(LoadGolden);

    public static IReadOnlyList<SeedTask> Seeds => LazySeeds.Value;

    public static IReadOnlyList<Item> Alpaca => LazyAlpaca.Value;

    /// <summary>
    /// Records the reference dedup kept in <c>dedup_stress_public.jsonl</c> (so every pair of them, and each
    /// against every seed, has ROUGE-L F1 ≤ 0.7: any subset in any order is kept), restricted to items that
    /// plainly pass the reference filters and print safely in the numbered format.
    /// </summary>
    public static IReadOnlyList<Item> GoldenUnique => LazyGolden.Value.Unique;

    /// <summary>Records the reference rejected as near-duplicates of a seed instruction (rejected whatever else is in the pool).</summary>
    public static IReadOnlyList<Item> GoldenSeedDuplicates => LazyGolden.Value.SeedDuplicates;

    private static List<Item> LoadAlpaca()
    {
        using var stream = File.OpenRead(RepoPaths.Data("alpaca_data.json"));
        using var doc = JsonDocument.Parse(stream);
        return [.. doc.RootElement.EnumerateArray().Select(e => new Item(
            e.GetProperty("instruction").GetString()!, e.GetProperty("input").GetString()!, e.GetProperty("output").GetString()!))];
    }

    private static (IReadOnlyList<Item>, IReadOnlyList<Item>) LoadGolden()
    {
        var byInstruction = new Dictionary<string, Item>(StringComparer.Ordinal);
        foreach (var item in Alpaca)
        {
            byInstruction.TryAdd(item.Instruction, item);
        }

        var unique = new List<Item>();
        var seedDuplicates = new List<Item>();
        foreach (var line in File.ReadLines(RepoPaths.Data("dedup_stress_public.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            var row = doc.RootElement;
            var instruction = row.GetProperty("instruction").GetString()!;
            var kept = row.GetProperty("kept").GetBoolean();
            var mostSimilar = row.GetProperty("most_similar").GetInt32();
            if (!PlainlyPassesFilters(instruction))
            {
                continue;
            }

            var record = byInstruction.TryGetValue(instruction, out var found) ? found : new Item(instruction, "", "A plain answer.");
            if (!PrintsSafely(record))
            {
                continue;
            }

            if (kept)
            {
                unique.Add(record);
            }
            else if (mostSimilar < 175)
            {
                seedDuplicates.Add(record);
            }
        }

        // A candidate equal to an earlier unique one is an exact duplicate; keep the first only.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return (unique.Where(u => seen.Add(u.Instruction)).ToList(), seedDuplicates);
    }

    /// <summary>
    /// The test's own, independent reading of the reference filters for plain ASCII text (where .NET's regex
    /// agrees with Python's): 4–150 space-separated words, no blacklisted word, not "Write a program", an
    /// ASCII letter first.
    /// </summary>
    public static bool PlainlyPassesFilters(string instruction)
    {
        if (!instruction.All(c => c is >= ' ' and <= '~') || instruction != instruction.Trim())
        {
            return false;
        }

        var words = instruction.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return words is > 3 and <= 150
            && !BlacklistRegex().IsMatch(instruction)
            && !instruction.StartsWith("Write a program", StringComparison.Ordinal)
            && char.IsAsciiLetter(instruction[0]);
    }

    /// <summary>Fields that survive being printed in the numbered format and parsed back unchanged.</summary>
    private static bool PrintsSafely(Item item) =>
        new[] { item.Input, item.Output }.All(f => f == f.Trim() && f.All(c => c == '\n' || c is >= ' ' and <= '~') && !f.Contains("###") && !HeaderLike().IsMatch(f))
        && !item.Input.Equals("<noinput>", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"\b(image|images|graph|graphs|picture|pictures|file|files|map|maps|draw|plot|go to|video|audio|music|flowchart|diagram)\b", RegexOptions.IgnoreCase)]
    private static partial Regex BlacklistRegex();

    [GeneratedRegex(@"\d+\.\s+(Instruction|Input|Output):")]
    private static partial Regex HeaderLike();
}
