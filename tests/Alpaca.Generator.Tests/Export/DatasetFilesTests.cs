using System.Security.Cryptography;
using System.Text;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Export;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Export;

/// <summary>The run's two files, written as the reference's <c>utils.jdump</c> (Python's json.dump, indent=4) writes them.</summary>
public class DatasetFilesTests
{
    [Fact]
    public void Rewriting_the_released_alpaca_data_reproduces_its_bytes()
    {
        // alpaca_data.json was written by Python's json.dump(indent=4); the same 52,002 records written by
        // our exporter must hash to the release's SHA-256.
        var records = TestData.Alpaca;
        Assert.Equal(52002, records.Count);

        var json = DatasetFiles.AlpacaJson(records.Select(r => (r.Instruction, r.Input, r.Output)));
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

        Assert.Equal("2eddafc6b977608d778aaab8dfc7e50e547b3af9826dfb9e909d9fc362e4a419", sha);
        Assert.Equal(new FileInfo(RepoPaths.Data("alpaca_data.json")).Length, Encoding.UTF8.GetByteCount(json));
    }

    [Fact]
    public void Regen_json_has_the_extras_as_an_ordered_map()
    {
        var records = new[]
        {
            new KeptRecord("r0.p0.s0", "Name a fruit that is red.", "", "Apple",
                [new ScoredInstruction("Name a red fruit.", 0.6), new ScoredInstruction("Give a fruit.", 0.25)], 0.05),
        };

        var json = DatasetFiles.RegenJson(records);

        const string expected = """
            [
                {
                    "instruction": "Name a fruit that is red.",
                    "input": "",
                    "output": "Apple",
                    "most_similar_instructions": {
                        "Name a red fruit.": 0.6,
                        "Give a fruit.": 0.25
                    },
                    "avg_similarity_score": 0.05
                }
            ]
            """;
        Assert.Equal(expected, json);
        Assert.Equal("[]", DatasetFiles.RegenJson([]));
    }
}
