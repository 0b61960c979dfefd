using Alpaca.Inference.Prompts;
using Alpaca.Llm.Prompts;

namespace Alpaca.Inference.Tests.Prompts;

public class PromptTemplateTests
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
        Assert.Equal(AlpacaPrompt.Build("x", "y"), PromptTemplates.Apply("alpaca", "x", "y"));
        Assert.Equal("plain", PromptTemplates.Apply("raw", "plain"));
        Assert.Equal("plain\n\nmore", PromptTemplates.Apply("raw", "plain", "more"));
        Assert.Throws<ArgumentException>(() => PromptTemplates.Apply("chatml", "x"));
    }
}
