using System.Text.RegularExpressions;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Generator.Tests.Prompts;

public class PromptEncoderTests
{
    [Fact]
    public void Encodes_the_reference_layout_worked_by_hand()
    {
        var template = PromptTemplate.FromText("HEADER\nList of 20 tasks:");
        SeedTask[] examples =
        [
            new("a", "  Sort   the\tnumbers:: ", "", "1, 2, 3"),
            new("b", "Translate to French:", "Hello  there", "Bonjour"),
        ];

        // encode_prompt by hand: template + "\n"; per example "###", the normalised instruction, <noinput>
        // for an empty input, raw input/output; then "###" and the next number's header with nothing after it.
        const string expected =
            "HEADER\nList of 20 tasks:\n" +
            "###\n1. Instruction: Sort the numbers\n1. Input:\n<noinput>\n1. Output:\n1, 2, 3\n" +
            "###\n2. Instruction: Translate to French\n2. Input:\nHello  there\n2. Output:\nBonjour\n" +
            "###\n3. Instruction:";
        Assert.Equal(expected, PromptEncoder.Encode(template, examples));
    }

    [Theory]
    [InlineData("Answer the question: ", "Answer the question")]
    [InlineData("Answer :", "Answer ")] // rstrip(":") after strip(): the space before the colon stays
    [InlineData("Line one\n\n  line two", "Line one line two")]
    [InlineData("Python\u001Cwhitespace\u001Fcounts", "Python whitespace counts")] // U+001C..1F are str.isspace()
    [InlineData("zero\u200Bwidth stays", "zero\u200Bwidth stays")] // U+200B is not whitespace in Python
    [InlineData("\u3000Ideographic\u00A0space ", "Ideographic space")]
    [InlineData("Trailing colons:::", "Trailing colons")]
    public void Normalises_instructions_like_python(string raw, string expected) =>
        Assert.Equal(expected, PromptEncoder.NormaliseInstruction(raw));

    [Fact]
    public void Encodes_real_seeds_with_the_reference_prompt_file()
    {
        var promptPath = RepoPaths.Data("alpaca_prompt.txt");
        var template = PromptTemplate.FromFile(promptPath);
        var seeds = TestData.Seeds;
        var examples = new[] { seeds[0], seeds[1], seeds[2] };

        var prompt = PromptEncoder.Encode(template, examples);

        // Built here from the seed records, following the layout of encode_prompt.
        var expected = File.ReadAllText(promptPath) + "\n";
        for (var k = 1; k <= 3; k++)
        {
            var e = examples[k - 1];
            var instruction = Regex.Replace(e.Instruction, @"\s+", " ").Trim().TrimEnd(':');
            expected += $"###\n{k}. Instruction: {instruction}\n{k}. Input:\n{(e.Input == "" ? "<noinput>" : e.Input)}\n{k}. Output:\n{e.Output}\n";
        }

        expected += "###\n4. Instruction:";
        Assert.Equal(expected, prompt);

        // And a few facts by eye: the file has no trailing newline, seed 0 has no input.
        Assert.Contains("List of 20 tasks:\n###\n1. Instruction: Is there anything I can eat for a breakfast that doesn't include eggs, yet includes protein, and has roughly 700-1000 calories?\n1. Input:\n<noinput>\n1. Output:\nYes, you can have 1 oatmeal banana protein shake", prompt);
        Assert.EndsWith("\n###\n4. Instruction:", prompt);
    }

    [Fact]
    public void Default_prompt_is_ours_and_has_the_reference_structure()
    {
        var ours = PromptTemplate.Default.Text;
        var reference = File.ReadAllText(RepoPaths.Data("alpaca_prompt.txt"));

        Assert.NotEqual(reference, ours);
        Assert.EndsWith("List of 20 tasks:", ours);
        Assert.Contains("20", ours.Split('\n')[0]);
        Assert.Contains("\"<noinput>\"", ours);
        Assert.Contains("100 words", ours);
        Assert.Contains("English", ours);

        // No sentence of the reference prompt is reused.
        foreach (var sentence in reference.Split(['.', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(s => s.Length > 25))
        {
            Assert.DoesNotContain(sentence, ours);
        }

        var prompt = PromptEncoder.Encode(PromptTemplate.Default, [.. TestData.Seeds.Take(3)]);
        Assert.Contains("List of 20 tasks:\n###\n1. Instruction: ", prompt);
        Assert.EndsWith("\n###\n4. Instruction:", prompt);
    }

    [Fact]
    public void Missing_or_empty_prompt_files_are_named()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<GeneratorInputException>(() => PromptTemplate.FromFile(dir.File("nope.txt")));
        Assert.Contains("nope.txt", missing.Message);

        File.WriteAllText(dir.File("empty.txt"), "  \n");
        var empty = Assert.Throws<GeneratorInputException>(() => PromptTemplate.FromFile(dir.File("empty.txt")));
        Assert.Contains("empty.txt", empty.Message);
    }
}
