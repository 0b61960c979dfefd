using System.Text.Json;
using Alpaca.TestSupport;

namespace Alpaca.Dedup.Tests;

/// <summary>Reading the shared golden and real data files by path (never copied into the project).</summary>
public static class GoldenTests
{
    public static IEnumerable<JsonElement> Lines(string file) =>
        File.ReadLines(RepoPaths.Data(file)).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone());

    /// <summary>The 175 seed instructions in file order.</summary>
    public static IReadOnlyList<string> Seeds() =>
        Lines("seed_tasks.jsonl").Select(e => e.GetProperty("instruction").GetString()!).ToList();

    /// <summary>The stress stream: candidates in order with the reference's decisions.</summary>
    public static IReadOnlyList<StressRow> Stress() =>
        Lines("dedup_stress_public.jsonl").Select(e => new StressRow(
            e.GetProperty("index").GetInt32(),
            e.GetProperty("instruction").GetString()!,
            e.GetProperty("kept").GetBoolean(),
            e.GetProperty("max_f_exact").GetDouble(),
            e.GetProperty("most_similar").GetInt32())).ToList();

    public sealed record StressRow(int Index, string Instruction, bool Kept, double MaxF, int MostSimilar);

    public static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);
}
