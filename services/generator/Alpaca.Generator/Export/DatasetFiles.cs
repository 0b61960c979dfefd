using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alpaca.Generator.Runs;
using Alpaca.Llm.IO.Exports;
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

    /// <summary>Writes both files (a generation of their own, put in place; no fence); returns their paths and the SHA-256 (hex) of the dataset file.</summary>
    public static (string RegenPath, string DatasetPath, string DatasetSha256) Write(string outputDir, IReadOnlyList<KeptRecord> records)
    {
        using var staged = Stage(outputDir, records);
        staged.CommitAsync(null).GetAwaiter().GetResult();
        return (staged.RegenPath, staged.DatasetPath, staged.DatasetSha256);
    }

    /// <summary>
    /// Writes both files into an export generation of their own (<see cref="ExportGeneration"/>, under the output
    /// folder's <c>.exports/</c>) without putting them in place: <see cref="StagedDataset.CommitAsync"/> confirms them
    /// through the run's fence first, so a deposed replica's export never replaces the files of the replica that took
    /// the run over, and one frozen between its confirmation and its renames puts the newer files back.
    /// </summary>
    /// <param name="fencingToken">The writer's lease token (<see cref="IExportFence.FencingToken"/>).</param>
    public static StagedDataset Stage(string outputDir, IReadOnlyList<KeptRecord> records, long fencingToken = 0)
    {
        var generation = ExportGeneration.Create(outputDir, fencingToken);
        try
        {
            var dataset = Encoding.UTF8.GetBytes(AlpacaJson(records));
            File.WriteAllBytes(generation.StagedPath(Path.Combine(generation.OutputDir, RegenFileName)), Encoding.UTF8.GetBytes(RegenJson(records)));
            File.WriteAllBytes(generation.StagedPath(Path.Combine(generation.OutputDir, DatasetFileName)), dataset);
            return new StagedDataset(generation, Path.Combine(outputDir, RegenFileName), Path.Combine(outputDir, DatasetFileName), Convert.ToHexStringLower(SHA256.HashData(dataset)));
        }
        catch
        {
            generation.Dispose();
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

/// <summary>regen.json and alpaca_data.json written into their generation but not in place yet (<see cref="DatasetFiles.Stage"/>).</summary>
public sealed class StagedDataset(ExportGeneration generation, string regenPath, string datasetPath, string datasetSha256) : IDisposable
{
    public string DatasetSha256 { get; } = datasetSha256;

    public string RegenPath { get; } = regenPath;

    public string DatasetPath { get; } = datasetPath;

    /// <summary>Confirms both through <paramref name="fence"/> (null: none) and puts them in place (<see cref="ExportGeneration.CommitAsync"/>).</summary>
    public Task<ExportManifest> CommitAsync(IExportFence? fence, CancellationToken cancellationToken = default) => generation.CommitAsync(fence, cancellationToken);

    public void Dispose() => generation.Dispose();
}
