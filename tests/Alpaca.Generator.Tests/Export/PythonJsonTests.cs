using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Export;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Export;

public class PythonJsonTests
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

    [Theory]
    [InlineData(0.7, "0.7")]
    [InlineData(1.0, "1.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(0.5714285714285715, "0.5714285714285715")]
    [InlineData(0.7000000000000001, "0.7000000000000001")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(0.000015, "1.5e-05")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(123456789012345680.0, "1.2345678901234568e+17")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    public void Floats_are_written_as_python_repr(double value, string repr) =>
        Assert.Equal(repr, PythonJson.FloatRepr(value));

    [Fact]
    public void Strings_are_ascii_escaped_like_python()
    {
        var sb = new StringBuilder();
        PythonJson.WriteString(sb, "a\"b\\c\n\t\u0001é😀/\u007f<");
        Assert.Equal("\"a\\\"b\\\\c\\n\\t\\u0001\\u00e9\\ud83d\\ude00/\\u007f<\"", sb.ToString());
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
        Assert.Equal("{}", PythonJson.Serialize(new JsonObject()));
    }
}
