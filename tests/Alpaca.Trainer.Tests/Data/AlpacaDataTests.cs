using Alpaca.Llm.Prompts;
using Alpaca.TestSupport;
using Alpaca.Trainer.Data;
using Xunit;

namespace Alpaca.Trainer.Tests.Data;

public sealed class AlpacaDataTests
{
    [Fact]
    public void Reads_all_of_alpaca_data_json()
    {
        var records = AlpacaDataReader.Read(RepoPaths.Data("alpaca_data.json"));
        Assert.Equal(52002, records.Count);
        Assert.Equal(20679, records.Count(r => r.Input != string.Empty));
        Assert.Equal("Give three tips for staying healthy.", records[0].Instruction);
        Assert.Equal("Analyze the given legal document and explain the key points.", records[^1].Instruction);
    }

    [Fact]
    public void Template_without_input_is_verbatim()
    {
        var records = AlpacaDataReader.Read(RepoPaths.Data("alpaca_data.json"));
        var first = records[0];
        Assert.Equal(string.Empty, first.Input);
        Assert.Equal(
            "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n" +
            "### Instruction:\nGive three tips for staying healthy.\n\n### Response:",
            AlpacaPrompt.Build(first.Instruction, first.Input));
    }

    [Fact]
    public void Template_with_input_is_verbatim()
    {
        var records = AlpacaDataReader.Read(RepoPaths.Data("alpaca_data.json"));
        var withInput = records.First(r => r.Input != string.Empty);
        Assert.Equal("Identify the odd one out.", withInput.Instruction);
        Assert.Equal("Twitter, Instagram, Telegram", withInput.Input);
        Assert.Equal(
            "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n" +
            "### Instruction:\nIdentify the odd one out.\n\n### Input:\nTwitter, Instagram, Telegram\n\n### Response:",
            AlpacaPrompt.Build(withInput.Instruction, withInput.Input));
    }

    [Fact]
    public void Whitespace_input_counts_as_an_input_like_train_py()
    {
        Assert.Contains("### Input:\n \n\n", AlpacaPrompt.Build("Do it.", " "));
    }

    [Fact]
    public void Json_lines_are_accepted_and_input_may_be_missing()
    {
        using var dir = new TempDir("data");
        File.WriteAllText(dir.File("d.jsonl"), "{\"instruction\":\"a\",\"output\":\"b\"}\n\n{\"instruction\":\"c\",\"input\":\"d\",\"output\":\"e\"}\n");
        var records = AlpacaDataReader.Read(dir.File("d.jsonl"));
        Assert.Equal([new AlpacaRecord("a", "", "b"), new AlpacaRecord("c", "d", "e")], records);
    }

    [Theory]
    [InlineData("[\n {\"instruction\": \"a\", \"output\": \"b\"},\n {\"instruction\": \"c\"}\n]", "record 1 (line 3): missing field 'output'")]
    [InlineData("[\n {\"instruction\": \"a\", \"input\": 5, \"output\": \"b\"}\n]", "record 0 (line 2): field 'input' must be a string")]
    [InlineData("[\n {\"instruction\": \"a\", \"output\": \"b\"},\n {\"instruction\": \"a\" \"output\": \"b\"}\n]", "line 3: invalid JSON")]
    [InlineData("[\n 7\n]", "record 0 (line 2): expected an object")]
    [InlineData("{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",", "line 2: invalid JSON")]
    [InlineData("[]", "no records")]
    public void Bad_data_names_the_file_record_line_and_field(string content, string expected)
    {
        using var dir = new TempDir("data");
        var path = dir.File("bad.json");
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidDataException>(() => AlpacaDataReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
