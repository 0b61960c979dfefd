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
        using var staged = Stage(outputDir, records);
        var (regen, dataset) = staged.Commit();
        return (regen, dataset, staged.DatasetSha256);
    }

    /// <summary>
    /// Writes both files beside their targets without putting them in place (<see cref="StagedDataset.Commit"/>
    /// does), so that a run can confirm it still holds the run's lease in between: a deposed replica's export
    /// then never replaces the files of the replica that took the run over.
    /// </summary>
    public static StagedDataset Stage(string outputDir, IReadOnlyList<KeptRecord> records)
    {
        Directory.CreateDirectory(outputDir);
        var dataset = Encoding.UTF8.GetBytes(AlpacaJson(records));
        var regenFile = AtomicFile.Stage(Path.Combine(outputDir, RegenFileName), Encoding.UTF8.GetBytes(RegenJson(records)));
        try
        {
            var datasetFile = AtomicFile.Stage(Path.Combine(outputDir, DatasetFileName), dataset);
            return new StagedDataset(regenFile, datasetFile, Convert.ToHexStringLower(SHA256.HashData(dataset)));
        }
        catch
        {
            regenFile.Dispose();
            throw;
        }
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

/// <summary>regen.json and alpaca_data.json written but not in place yet (<see cref="DatasetFiles.Stage"/>).</summary>
public sealed class StagedDataset(StagedFile regen, StagedFile dataset, string datasetSha256) : IDisposable
{
    public string DatasetSha256 { get; } = datasetSha256;

    /// <summary>Renames both into place (regen.json first, as <see cref="DatasetFiles.Write"/> always did); returns their paths.</summary>
    public (string RegenPath, string DatasetPath) Commit()
    {
        regen.Commit();
        dataset.Commit();
        return (regen.Path, dataset.Path);
    }

    public void Dispose()
    {
        regen.Dispose();
        dataset.Dispose();
    }
}
