using Alpaca.Generator.Parsing;
using Alpaca.Generator.Parsing.Cleaning;

namespace Alpaca.Generator.Tests.Parsing;

public class CleaningChecksTests
{
    private static readonly ResponseParser Cleaned = new(3, CleaningChecks.All);
    private static readonly ResponseParser Reference = new(3);

    private static ParsedItem One(ResponseParser parser, string instruction, string input, string output) =>
        Assert.Single(parser.Parse($" {instruction}\n4. Input:\n{input}\n4. Output:\n{output}\n", "stop"));

    [Theory]
    [InlineData("Summarize the story in one line.", "<noinput>", "A boy finds a dog. 5. Instruction: Write a haiku.", "merged_instruction")]
    [InlineData("Summarize the story in one line.", "<noinput>", "", "empty_output")]
    [InlineData("Summarize the story in one line.", "<noinput>", "N/A", "na_output")]
    [InlineData("Summarize the story in one line.", "<noinput>", "<No Output>", "na_output")]
    [InlineData("Summarize the article at the link below.", "https://example.com/news", "It says...", "needs_image_or_url")]
    [InlineData("Describe what you see in the attached photo.", "<noinput>", "A dog.", "needs_image_or_url")]
    [InlineData("Describe the scene in the input.", "<Picture Attached>", "A dog.", "needs_image_or_url")]
    [InlineData("Explain the difference between Na and NaCl.", "<noinput>", "Na is sodium; NaCl is salt.", null)]
    public void Rejects_the_alpaca_cleaned_defects(string instruction, string input, string output, string? reason)
    {
        Assert.Equal(reason, One(Cleaned, instruction, input, output).Rejection?.Key());

        // The reference filters let every one of them through.
        Assert.Null(One(Reference, instruction, input, output).Rejection);
    }

    [Theory]
    [InlineData("<no input>")]
    [InlineData("No input")]
    [InlineData("noinput")]
    [InlineData("(No Input)")]
    [InlineData("[noinput]")]
    public void Other_spellings_of_no_input_become_empty_and_are_counted(string spelling)
    {
        var item = One(Cleaned, "Name the largest ocean on Earth.", spelling, "The Pacific.");
        Assert.True(item.Accepted);
        Assert.Equal("", item.Input);
        Assert.Equal([CleaningChecks.NoInputSpellingFix], item.Cleaned);

        Assert.Equal(spelling, One(Reference, "Name the largest ocean on Earth.", spelling, "The Pacific.").Input);
    }

    [Fact]
    public void A_real_input_that_mentions_no_input_is_left_alone()
    {
        var item = One(Cleaned, "Classify the sentence below.", "There was no input from the team.", "Statement.");
        Assert.Equal("There was no input from the team.", item.Input);
        Assert.Empty(item.Cleaned);
    }
}
