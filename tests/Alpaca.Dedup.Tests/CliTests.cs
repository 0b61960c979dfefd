using System.Text.Json;
using Alpaca.Dedup.Pool;
using Alpaca.TestSupport;

namespace Alpaca.Dedup.Tests;

/// <summary><c>alpaca dedup score|run</c> run as a real process on real files.</summary>
public sealed class CliTests
{
    private static List<JsonElement> ReadJsonl(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    /// <summary>The raw text of a number field, to compare the digits Python writes.</summary>
    private static string RawNumber(string line, string field)
    {
        var at = line.IndexOf($"\"{field}\":", StringComparison.Ordinal) + field.Length + 3;
        var end = line.IndexOfAny([',', '}'], at);
        return line[at..end].Trim();
    }

    [Fact]
    public void Score_writes_every_golden_pair_back_with_the_exact_doubles()
    {
        using var dir = new TempDir();
        var pairs = RepoPaths.Data("rougeL_pairs_public.jsonl");
        var (code, _, err) = AlpacaCli.Run("dedup", "score", "--pairs", pairs, "--out", dir.File("scored.jsonl"));
        Assert.True(code == 0, err);
        var golden = File.ReadAllLines(pairs);
        var scored = File.ReadAllLines(dir.File("scored.jsonl"));
        Assert.Equal(golden.Length, scored.Length);
        for (var i = 0; i < golden.Length; i++)
        {
            foreach (var field in new[] { "precision", "recall", "fmeasure" })
            {
                // Python's json writes repr(): the same digits mean the same double, written the same way.
                Assert.Equal(RawNumber(golden[i], field), RawNumber(scored[i], field));
            }

            var g = JsonDocument.Parse(golden[i]).RootElement;
            var s = JsonDocument.Parse(scored[i]).RootElement;
            Assert.Equal(g.GetProperty("a").GetString(), s.GetProperty("a").GetString());
            Assert.Equal(g.GetProperty("kind").GetString(), s.GetProperty("kind").GetString());
        }
    }

    [Fact]
    public void Score_without_out_writes_to_standard_output()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.jsonl"), "{\"a\": \"a b c d\", \"b\": \"a c e\", \"note\": [1, {\"x\": null}]}\n\n{\"a\": \"\", \"b\": \"x\"}\n");
        var (code, output, err) = AlpacaCli.Run("dedup", "score", "--pairs", dir.File("p.jsonl"));
        Assert.True(code == 0, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("{\"a\":\"a b c d\",\"b\":\"a c e\",\"note\":[1,{\"x\":null}],\"precision\":0.6666666666666666,\"recall\":0.5,\"fmeasure\":0.5714285714285715}", lines[0]);
        Assert.Equal("{\"a\":\"\",\"b\":\"x\",\"precision\":0.0,\"recall\":0.0,\"fmeasure\":0.0}", lines[1]);
    }

    [Fact]
    public void Run_reproduces_every_stress_decision_and_prints_a_summary()
    {
        using var dir = new TempDir();
        var (code, _, err) = AlpacaCli.Run("dedup", "run", "--seeds", RepoPaths.Data("seed_tasks.jsonl"), "--input", RepoPaths.Data("dedup_stress_public.jsonl"), "--out", dir.File("out.jsonl"));
        Assert.True(code == 0, err);
        var golden = File.ReadAllLines(RepoPaths.Data("dedup_stress_public.jsonl"));
        var output = File.ReadAllLines(dir.File("out.jsonl"));
        Assert.Equal(golden.Length, output.Length);
        for (var i = 0; i < golden.Length; i++)
        {
            var g = JsonDocument.Parse(golden[i]).RootElement;
            var o = JsonDocument.Parse(output[i]).RootElement;
            Assert.Equal(i, o.GetProperty("index").GetInt32());
            Assert.Equal(g.GetProperty("kept").GetBoolean(), o.GetProperty("kept").GetBoolean());
            Assert.Equal(RawNumber(golden[i], "max_f_exact"), RawNumber(output[i], "max_f"));
            Assert.Equal(g.GetProperty("most_similar").GetInt32(), o.GetProperty("most_similar").GetInt32());
            Assert.Equal(g.GetProperty("instruction").GetString(), o.GetProperty("instruction").GetString());
            Assert.Equal(GoldenTests.Bits(g.GetProperty("max_f_exact").GetDouble()), GoldenTests.Bits(o.GetProperty("max_f_exact").GetDouble())); // other fields kept
        }

        Assert.Contains("candidates 1,927", err);
        Assert.Contains("kept 1,566", err);
        Assert.Contains("avoided", err);
        Assert.Contains("tokenize", err);
        Assert.Contains("decide", err);
    }

    [Fact]
    public void Run_with_alpaca_fields_and_a_limit_on_a_json_array()
    {
        using var dir = new TempDir();
        var alpaca = JsonDocument.Parse(File.ReadAllText(RepoPaths.Data("alpaca_data.json"))).RootElement.EnumerateArray().Take(60).ToList();
        File.WriteAllText(dir.File("in.json"), JsonSerializer.Serialize(alpaca, new JsonSerializerOptions { WriteIndented = true }));
        var (code, _, err) = AlpacaCli.Run("dedup", "run", "--seeds", RepoPaths.Data("seed_tasks.jsonl"), "--input", dir.File("in.json"), "--limit", "40", "--alpaca-fields", "--out", dir.File("out.jsonl"));
        Assert.True(code == 0, err);
        var output = ReadJsonl(File.ReadAllText(dir.File("out.jsonl")));
        Assert.Equal(40, output.Count);

        var pool = new DedupPool(GoldenTests.Seeds());
        for (var i = 0; i < 40; i++)
        {
            var expected = pool.Submit(alpaca[i].GetProperty("instruction").GetString()!, withExtras: true);
            var o = output[i];
            Assert.Equal(alpaca[i].GetProperty("output").GetString(), o.GetProperty("output").GetString());
            Assert.Equal(expected.Kept, o.GetProperty("kept").GetBoolean());
            Assert.Equal(expected.MaxF, o.GetProperty("max_f").GetDouble());
            var similar = o.GetProperty("most_similar_instructions").EnumerateObject().ToList();
            Assert.Equal(expected.Extras!.MostSimilar.Select(s => s.Instruction), similar.Select(p => p.Name));
            Assert.Equal(expected.Extras.MostSimilar.Select(s => s.Score), similar.Select(p => p.Value.GetDouble()));
            Assert.Equal(GoldenTests.Bits(expected.Extras.AverageSimilarity), GoldenTests.Bits(o.GetProperty("avg_similarity_score").GetDouble()));
        }
    }

    [Fact]
    public void Lone_surrogates_pass_through_without_errors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("seeds.jsonl"), "{\"instruction\": \"Write a poem\"}\n");
        File.WriteAllText(dir.File("in.jsonl"), "{\"instruction\": \"Write a \\ud800 poem\"}\n{\"instruction\": \"\\udc00\"}\n");
        var (code, _, err) = AlpacaCli.Run("dedup", "run", "--seeds", dir.File("seeds.jsonl"), "--input", dir.File("in.jsonl"), "--alpaca-fields", "--out", dir.File("out.jsonl"));
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(dir.File("out.jsonl"));
        Assert.StartsWith("{\"instruction\":\"Write a \\ud800 poem\",\"index\":0,\"kept\":false,\"max_f\":1.0,\"most_similar\":0", lines[0]);
        Assert.StartsWith("{\"instruction\":\"\\udc00\",\"index\":1,\"kept\":true,\"max_f\":0.0,\"most_similar\":0,\"most_similar_instructions\":{\"Write a poem\":0.0}", lines[1]);
    }

    [Fact]
    public void An_empty_pools_mean_is_written_as_null()
    {
        // np.mean of no scores is NaN, which strict JSON cannot hold; the first candidate without seeds meets an empty pool.
        using var dir = new TempDir();
        File.WriteAllText(dir.File("seeds.jsonl"), "");
        File.WriteAllText(dir.File("in.jsonl"), "{\"instruction\": \"Write a poem\"}\n{\"instruction\": \"Write a poem about it\"}\n");
        var (code, _, err) = AlpacaCli.Run("dedup", "run", "--seeds", dir.File("seeds.jsonl"), "--input", dir.File("in.jsonl"), "--alpaca-fields", "--out", dir.File("out.jsonl"));
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(dir.File("out.jsonl"));
        Assert.Equal("{\"instruction\":\"Write a poem\",\"index\":0,\"kept\":true,\"max_f\":0.0,\"most_similar\":-1,\"most_similar_instructions\":{},\"avg_similarity_score\":null}", lines[0]);
    }

    [Theory]
    [InlineData("{\"instruction\": \"ok\"}\n{\"instruction\": \"fine\"}\n{\"instruction\": broken}\n", ":3: malformed JSON")]
    [InlineData("{\"instruction\": \"ok\"}\n\n{\"text\": \"no instruction\"}\n", ":3: record 2 has no string field 'instruction'")]
    [InlineData("{\"instruction\": \"ok\"}\n[1, 2]\n", ":2: expected a JSON object")]
    [InlineData("{\"instruction\": 5}\n", ":1: record 1 has no string field 'instruction'")]
    [InlineData("[\n  {\"instruction\": \"ok\"},\n  {\"instruction\": \"x\",}\n]", ":3: malformed JSON")]
    [InlineData("[\n  {\"instruction\": \"ok\"},\n  \"text\"\n]", ":3: element 2 is not a JSON object")]
    [InlineData("[\n  {\"instruction\": \"ok\"},\n\n  {\"output\": \"x\"}\n]", ":4: record 2 has no string field 'instruction'")]
    public void Malformed_input_names_the_file_and_line_and_exits_non_zero(string content, string message)
    {
        using var dir = new TempDir();
        var input = dir.File("bad.jsonl");
        File.WriteAllText(input, content);
        var (code, _, err) = AlpacaCli.Run("dedup", "run", "--seeds", RepoPaths.Data("seed_tasks.jsonl"), "--input", input, "--out", dir.File("out.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains(input + message, err);
        Assert.DoesNotContain("   at ", err); // a message, not a stack trace
    }

    [Fact]
    public void Missing_files_and_bad_pairs_are_reported()
    {
        using var dir = new TempDir();
        var (code, _, err) = AlpacaCli.Run("dedup", "score", "--pairs", dir.File("absent.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains(dir.File("absent.jsonl") + ": cannot read", err);

        File.WriteAllText(dir.File("p.jsonl"), "{\"a\": \"x\", \"b\": \"y\"}\n{\"a\": \"x\"}\n");
        (code, _, err) = AlpacaCli.Run("dedup", "score", "--pairs", dir.File("p.jsonl"), "--out", dir.File("o.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains(dir.File("p.jsonl") + ":2: record 2 has no string field 'b'", err);

        (code, _, err) = AlpacaCli.Run("dedup", "run", "--seeds", RepoPaths.Data("seed_tasks.jsonl"), "--input", dir.File("p.jsonl"), "--limit", "-1", "--out", dir.File("o.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("--limit", err);
    }
}
