using Alpaca.Generator.Seeds;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Seeds;

public class SeedTaskReaderTests
{
    [Fact]
    public void Reads_the_175_reference_seeds()
    {
        var seeds = SeedTaskReader.Read(RepoPaths.Data("seed_tasks.jsonl"));

        Assert.Equal(175, seeds.Count);
        Assert.Equal("seed_task_0", seeds[0].Id);
        Assert.Equal("seed_task_174", seeds[^1].Id);
        Assert.Equal(125, seeds.Count(s => s.Input.Length > 0));
        Assert.Equal("", seeds[0].Input);
        Assert.StartsWith("Is there anything I can eat for a breakfast", seeds[0].Instruction);
    }

    [Fact]
    public void Names_every_malformed_line_by_number_and_field()
    {
        using var dir = new TempDir();
        var path = dir.File("seeds.jsonl");
        File.WriteAllLines(path,
        [
            """{"id": "ok", "instruction": "Say hi.", "instances": [{"input": "", "output": "Hi"}]}""",
            """{"id": "bad-json", "instruction": "Say hi.", """,
            """{"id": "no-instances", "instruction": "Say hi."}""",
            """{"id": "no-output", "instruction": "Say hi.", "instances": [{"input": ""}]}""",
            "",
            """{"id": "number", "instruction": 5, "instances": [{"input": "", "output": "x"}]}""",
            """["not", "an", "object"]""",
            """{"id": "empty-instances", "instruction": "Say hi.", "instances": []}""",
            """{"id": "flat", "instruction": "Say hi.", "input": "", "output": "Hi"}""",
        ]);

        var e = Assert.Throws<GeneratorInputException>(() => SeedTaskReader.Read(path));

        Assert.Contains("6 malformed seed line(s)", e.Message);
        Assert.Contains($"{path} line 2: not valid JSON", e.Message);
        Assert.Contains($"{path} line 3: field 'instances' is missing", e.Message);
        Assert.Contains($"{path} line 4: field 'instances[0].output' is missing", e.Message);
        Assert.Contains($"{path} line 6: field 'instruction' must be a string", e.Message);
        Assert.Contains($"{path} line 7: expected a JSON object", e.Message);
        Assert.Contains($"{path} line 8: field 'instances' must be a non-empty array", e.Message);
        Assert.DoesNotContain("line 1:", e.Message);
        Assert.DoesNotContain("line 9:", e.Message);
    }

    [Fact]
    public void Missing_and_empty_files_are_errors()
    {
        using var dir = new TempDir();
        Assert.Contains("does not exist", Assert.Throws<GeneratorInputException>(() => SeedTaskReader.Read(dir.File("none.jsonl"))).Message);
        File.WriteAllText(dir.File("empty.jsonl"), "\n\n");
        Assert.Contains("holds no seed tasks", Assert.Throws<GeneratorInputException>(() => SeedTaskReader.Read(dir.File("empty.jsonl"))).Message);
    }
}
