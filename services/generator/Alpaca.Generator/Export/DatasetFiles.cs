using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alpaca.Generator.Runs;
using Alpaca.Reference;

namespace Alpaca.Generator.Export;

/// <summary>
/// The two outputs of a run, both written like the reference's <c>utils.jdump</c>:
/// <list type="bullet">
/// <item><c>regen.json</c>: records <c>{instruction, input, output}</c> plus, when the run asked for the dedup
/// extras, <c>most_similar_instructions</c> (a map, highest score first) and <c>avg_similarity_score</c>;</item>
/// <item><c>alpaca_data.json</c>: records <c>{instruction, input, output}</c> only, as released.</item>
/// </list>
/// </summary>
public static class DatasetFiles
{
    public const string RegenFileName = "regen.json";
    public const string DatasetFileName = "alpaca_data.json";

    /// <summary>Writes both files atomically; returns their paths and the SHA-256 (hex) of the dataset file.</summary>
    public static (string RegenPath, string DatasetPath, string DatasetSha256) Write(string outputDir, IReadOnlyList<KeptRecord> records)
    {
        Directory.CreateDirectory(outputDir);
        var regenPath = Path.Combine(outputDir, RegenFileName);
        var datasetPath = Path.Combine(outputDir, DatasetFileName);
        AtomicFile.WriteAllText(regenPath, RegenJson(records));
        var dataset = Encoding.UTF8.GetBytes(AlpacaJson(records));
        AtomicFile.WriteAllBytes(datasetPath, dataset);
        return (regenPath, datasetPath, Convert.ToHexStringLower(SHA256.HashData(dataset)));
    }

    public static string RegenJson(IReadOnlyList<KeptRecord> records)
    {
        var array = new JsonArray();
        foreach (var r in records)
        {
            var obj = Basic(r.Instruction, r.Input, r.Output);
            if (r.MostSimilarInstructions is { } similar)
            {
                // A Python dict built from the top-10 list: a repeated text keeps its first position, last value.
                var map = new JsonObject();
                foreach (var s in similar)
                {
                    map[s.Instruction] = JsonValue.Create(s.Score);
                }

                obj["most_similar_instructions"] = map;
            }

            if (r.AvgSimilarityScore is { } avg)
            {
                obj["avg_similarity_score"] = JsonValue.Create(avg);
            }

            array.Add(obj);
        }

        return PyJson.Dumps(array);
    }

    public static string AlpacaJson(IEnumerable<(string Instruction, string Input, string Output)> records)
    {
        var array = new JsonArray();
        foreach (var (instruction, input, output) in records)
        {
            array.Add(Basic(instruction, input, output));
        }

        return PyJson.Dumps(array);
    }

    public static string AlpacaJson(IReadOnlyList<KeptRecord> records) =>
        AlpacaJson(records.Select(r => (r.Instruction, r.Input, r.Output)));

    private static JsonObject Basic(string instruction, string input, string output) => new()
    {
        ["instruction"] = instruction,
        ["input"] = input,
        ["output"] = output,
    };
}
