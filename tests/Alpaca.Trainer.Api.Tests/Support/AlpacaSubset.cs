using System.Text.Json;
using System.Text.Json.Nodes;
using Alpaca.TestSupport;

namespace Alpaca.Trainer.Api.Tests.Support;

/// <summary>The first records of the real alpaca_data.json, written to a test's own file (jobs take a path).</summary>
internal static class AlpacaSubset
{
    private static readonly Lazy<JsonArray> All = new(() => JsonNode.Parse(File.ReadAllText(RepoPaths.Data("alpaca_data.json")))!.AsArray());

    public static string Write(TempDir dir, int records, string name = "data.json")
    {
        var subset = new JsonArray(All.Value.Take(records).Select(r => r!.DeepClone()).ToArray());
        var path = dir.File(name);
        File.WriteAllText(path, subset.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}
