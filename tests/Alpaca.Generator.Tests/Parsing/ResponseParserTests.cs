using Alpaca.Generator.Parsing;

namespace Alpaca.Generator.Tests.Parsing;

public class ResponseParserTests
{
    private static readonly ResponseParser Parser = new(numPromptInstructions: 3);

    /// <summary>An item as the teacher writes it after the separator (or, for 4, after the prompt's header).</summary>
    private static string Item(int n, string instruction, string input, string output, bool first = false) =>
        (first ? " " : $"\n###\n{n}. Instruction: ") + $"{instruction}\n{n}. Input:\n{input}\n{n}. Output:\n{output}\n";

    private static Dictionary<string, int> Reasons(IEnumerable<ParsedItem> items) =>
        items.Where(i => i.Rejection is not null).GroupBy(i => i.Rejection!.Value.Key()).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void Parses_numbered_items_and_normalises_noinput()
    {
        var text = Item(4, "Give three tips for staying healthy.", "<noinput>", "1. Eat a balanced diet.\n2. Exercise.", first: true)
            + Item(5, "Rewrite the sentence in the passive voice.", "The cat chased the mouse.", "The mouse was chased by the cat.")
            + "\n###\n";

        var items = Parser.Parse(text, "stop");

        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.True(i.Accepted));
        Assert.Equal(("Give three tips for staying healthy.", "", "1. Eat a balanced diet.\n2. Exercise."), (items[0].Instruction, items[0].Input, items[0].Output));
        Assert.Equal(("Rewrite the sentence in the passive voice.", "The cat chased the mouse.", "The mouse was chased by the cat."), (items[1].Instruction, items[1].Input, items[1].Output));
        Assert.Equal([4, 5], items.Select(i => i.Number));
    }

    [Theory]
    [InlineData("<NOINPUT>", "")]
    [InlineData("<NoInput>", "")]
    [InlineData("<noinput>.", "<noinput>.")] // only the exact marker, any case
    [InlineData("No input", "No input")] // other spellings are a known defect of the reference
    [InlineData("<no input>", "<no input>")]
    public void Only_the_noinput_marker_becomes_empty(string shown, string parsed)
    {
        var items = Parser.Parse(Item(4, "Name the capital of France please.", shown, "Paris", first: true), "stop");
        Assert.Equal(parsed, Assert.Single(items).Input);
    }

    [Fact]
    public void Needs_exactly_seven_parts_with_the_positional_number()
    {
        var text = Item(4, "Explain why the sky is blue.", "<noinput>", "Rayleigh scattering.", first: true)
            + "\n###\n5. Instruction: Missing its output field here.\n5. Input:\n<noinput>\n" // 5 parts
            + Item(7, "This one is numbered 7 at position 6.", "<noinput>", "x") // wrong number: 1 part
            + Item(7, "Describe a sunset over the ocean.", "<noinput>", "Gold and red.") // position 7: right
            + "\n###\n8. Instruction: Output twice here is wrong.\n8. Input:\n<noinput>\n8. Output:\na\n8. Output:\nb\n" // 9 parts
            + "\n###\n";

        var items = Parser.Parse(text, "stop");

        Assert.Equal(5, items.Count);
        Assert.Equal([true, false, false, true, false], items.Select(i => i.Accepted));
        Assert.Equal(RejectionReason.Malformed, items[1].Rejection);
        Assert.Equal(RejectionReason.Malformed, items[2].Rejection);
        Assert.Equal(RejectionReason.Malformed, items[4].Rejection);
        Assert.Equal("Describe a sunset over the ocean.", items[3].Instruction);
    }

    [Fact]
    public void A_skipped_number_drops_the_following_items_too()
    {
        // The teacher jumped from 4 to 6: every later item is one number ahead of its position.
        var text = Item(4, "Explain how vaccines train the immune system.", "<noinput>", "They show it a harmless part.", first: true)
            + Item(6, "Suggest a name for a coffee shop.", "<noinput>", "Bean There.")
            + Item(7, "List two prime numbers below ten.", "<noinput>", "2 and 3.")
            + "\n###\n";

        var items = Parser.Parse(text, "stop");

        Assert.Equal([true, false, false], items.Select(i => i.Accepted));
    }

    [Fact]
    public void The_unanchored_number_pattern_also_splits_inside_larger_numbers()
    {
        // "15. Output:" contains "5. Output:", so the reference splits there too and drops the item.
        var text = Item(4, "Explain the rules of tic tac toe.", "<noinput>", "Three in a row wins.", first: true)
            + Item(5, "Count the items in the list below.", "apples, pears", "There are 2; see 15. Output: none")
            + "\n###\n";

        var items = Parser.Parse(text, "stop");

        Assert.True(items[0].Accepted);
        Assert.Equal(RejectionReason.Malformed, items[1].Rejection);
    }

    [Fact]
    public void Header_whitespace_is_python_whitespace_one_or_more()
    {
        var text = " Identify the main idea of the passage.\n4.\tInput:\n<noinput>\n4.  \u2003Output:\nIt is about rivers.\n"
            + "\n###\n5.Instruction: No space after the dot is not a header.\n5. Input:\n<noinput>\n5. Output:\nx\n";

        var items = Parser.Parse(text, "stop");

        Assert.True(items[0].Accepted);
        Assert.Equal("It is about rivers.", items[0].Output);
        Assert.Equal(RejectionReason.Malformed, items[1].Rejection);
    }

    [Fact]
    public void The_last_item_of_a_reply_cut_off_for_length_is_dropped()
    {
        var complete = Item(4, "Describe the water cycle in two sentences.", "<noinput>", "Water evaporates and rains.", first: true)
            + Item(5, "Convert 10 kilometres to miles.", "<noinput>", "About 6.2 miles.");
        var cut = complete + "\n###\n6. Instruction: Summarize the plot of Hamlet in one\n6. Inp";

        var truncated = Parser.Parse(cut, "length");
        Assert.Equal([true, true, false], truncated.Select(i => i.Accepted));
        Assert.Equal(RejectionReason.Truncated, truncated[2].Rejection);

        // Even a complete last item goes when the reply stopped for length; with "stop" it is kept.
        Assert.Equal([true, false], Parser.Parse(complete, "length").Select(i => i.Accepted));
        Assert.Equal(RejectionReason.Truncated, Parser.Parse(complete, "length")[1].Rejection);
        Assert.Equal([true, true], Parser.Parse(complete, "stop").Select(i => i.Accepted));
    }

    [Theory]
    [InlineData("Sort these numbers.", "too_short")] // 3 words
    [InlineData("Sort these numbers quickly.", null)] // 4 words
    [InlineData("Sort\u001Cthese three numbers.", null)] // U+001C separates words in Python's split()
    [InlineData("Draw a cat.", "too_short")] // length is checked before the blacklist
    [InlineData("Describe the image in detail.", "blacklist")]
    [InlineData("Describe these IMAGES in detail.", "blacklist")]
    [InlineData("Describe the imagery of the poem.", null)] // whole words only
    [InlineData("Go to the store and buy milk.", "blacklist")] // "go to" with its space
    [InlineData("Explain what goto does in C.", null)]
    [InlineData("Name the file_name convention in Python.", null)] // '_' is a word character
    [InlineData("Suggest a file-based storage layout.", "blacklist")] // '-' is not
    [InlineData("Explain the map2 function in detail.", null)] // digits are word characters
    [InlineData("Describe the İmage of the city.", "blacklist")] // Python IGNORECASE: U+0130 matches i
    [InlineData("Compare the video½ format options.", null)] // '½' (No) is a Python word character
    [InlineData("Write a program to sort a list.", "write_a_program")]
    [InlineData("Write a programme that greets users.", "write_a_program")] // a prefix test
    [InlineData("write a program to sort a list.", null)] // case-sensitive
    [InlineData("Write a program that makes a plot of the data.", "blacklist")] // blacklist comes first
    [InlineData("\"Quote\" this sentence properly please.", "starts_with_punctuation")]
    [InlineData("#hashtag ideas for a bakery", "starts_with_punctuation")]
    [InlineData("1 tip for learning to cook well.", null)] // digits are not punctuation
    [InlineData("¿Qué hora es ahora mismo?", "starts_with_non_ascii")]
    [InlineData("Éxplain the rules of chess.", "starts_with_non_ascii")]
    [InlineData("Explain 😀 emoji usage in texts.", null)]
    public void Applies_the_reference_filters_in_order(string instruction, string? reason)
    {
        var item = Assert.Single(Parser.Parse(Item(4, instruction, "<noinput>", "x", first: true), "stop"));
        Assert.Equal(reason, item.Rejection?.Key());
    }

    [Fact]
    public void Word_limit_is_150()
    {
        var ok = "Explain" + string.Concat(Enumerable.Repeat(" very", 148)) + " clearly.";
        var tooLong = "Explain" + string.Concat(Enumerable.Repeat(" very", 149)) + " clearly.";
        Assert.Null(Assert.Single(Parser.Parse(Item(4, ok, "<noinput>", "x", first: true), "stop")).Rejection);
        Assert.Equal(RejectionReason.TooLong, Assert.Single(Parser.Parse(Item(4, tooLong, "<noinput>", "x", first: true), "stop")).Rejection);
    }

    [Fact]
    public void Garbage_and_empty_replies_never_throw()
    {
        Assert.Empty(Parser.Parse(null, null));
        Assert.Empty(Parser.Parse("", "stop"));
        Assert.Empty(Parser.Parse("   \n###\n  \n", "stop"));
        Assert.Equal(RejectionReason.Malformed, Assert.Single(Parser.Parse("Sorry, I can't help with that.", "stop")).Rejection);
        Assert.Equal(RejectionReason.TooShort, Assert.Single(Parser.Parse(Item(4, "", "", "", first: true), "stop")).Rejection);
        Assert.Equal(new Dictionary<string, int> { ["malformed"] = 3 }, Reasons(Parser.Parse("###\n#\n###x###\u0000", "stop")));
    }

    [Fact]
    public void The_first_number_follows_the_number_of_examples()
    {
        var two = new ResponseParser(numPromptInstructions: 2);
        var text = " Explain how tides are caused.\n3. Input:\n<noinput>\n3. Output:\nThe moon.\n\n###\n4. Instruction: Describe a tree in autumn.\n4. Input:\n<noinput>\n4. Output:\nRed leaves.\n";
        Assert.Equal([3, 4], two.Parse(text, "stop").Where(i => i.Accepted).Select(i => i.Number));
    }
}
