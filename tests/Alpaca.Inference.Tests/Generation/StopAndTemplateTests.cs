using Alpaca.Inference.Generation;
using Alpaca.Llm.Prompts;

namespace Alpaca.Inference.Tests.Generation;

public class StopAndTemplateTests
{
    [Fact]
    public void Alpaca_templates_are_stanford_alpacas_prompt_dict()
    {
        // PROMPT_DICT of stanford_alpaca train.py (docs: alpaca-reference.md §3.1), verbatim.
        Assert.Equal(
            "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nGive three tips.\n\n### Response:",
            AlpacaPrompt.Build("Give three tips."));
        Assert.Equal(
            "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate {input}.\n\n### Input:\nHola\n\n### Response:",
            AlpacaPrompt.Build("Translate {input}.", "Hola"));
        Assert.Contains("### Input:\n \n", AlpacaPrompt.Build("x", " ")); // whitespace counts as input
        Assert.Equal(AlpacaPrompt.Build("x"), AlpacaPrompt.Build("x", ""));
        Assert.Equal("plain", PromptTemplates.Apply("raw", "plain"));
        Assert.Throws<ArgumentException>(() => PromptTemplates.Apply("chatml", "x"));
    }

    [Fact]
    public void Text_is_released_as_soon_as_it_cannot_start_a_stop_sequence()
    {
        var m = new StopSequenceMatcher(["\n20", "###"]);
        Assert.Equal("Hello", m.Push("Hello"));
        Assert.Equal(" wor", m.Push(" wor"));
        Assert.Equal("ld", m.Push("ld\n"));   // "\n" could start "\n20"
        Assert.Equal("\n1", m.Push("1"));     // now it cannot
        Assert.Equal("", m.Push("#"));
        Assert.Equal("# ok ", m.Push(" ok "));
        Assert.False(m.Stopped);
    }

    [Fact]
    public void A_stop_sequence_split_over_pieces_ends_the_text_before_it()
    {
        var m = new StopSequenceMatcher(["\n20", "20."]);
        var emitted = m.Push("1. a\n2") + m.Push("0. b");
        Assert.True(m.Stopped);
        Assert.Equal("1. a", emitted);
        Assert.Equal("", m.Push("more"));
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void Without_stops_everything_flows_and_flush_releases_the_tail()
    {
        var m = new StopSequenceMatcher(null);
        Assert.Equal("abc", m.Push("abc"));
        var n = new StopSequenceMatcher(["xyz"]);
        Assert.Equal("ab", n.Push("abxy"));
        Assert.Equal("xy", n.Flush());
    }
}
