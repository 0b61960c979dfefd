using Alpaca.Llm.Chat;
using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Tests.Chat;

/// <summary>Which format a model's chat requests get, and which tokens end its turns.</summary>
public sealed class ModelChatTests
{
    private const string ChatMl = "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private static LlamaVocabulary Vocab(string? template)
    {
        var vocab = LlamaVocabulary.CreateByteFallback(300);
        var tokens = (string[])vocab.Tokens.Clone();
        var types = (TokenType[])vocab.Types.Clone();
        (tokens[^2], types[^2]) = ("<|im_start|>", TokenType.Control);
        (tokens[^1], types[^1]) = ("<|im_end|>", TokenType.Control);
        return vocab with { Tokens = tokens, Types = types, ChatTemplate = template };
    }

    private static readonly ChatMessage[] Hello = [new("user", "Hello")];

    [Fact]
    public void A_model_without_a_template_is_prompted_with_alpaca()
    {
        var chat = ModelChat.For(Vocab(null));
        Assert.Same(AlpacaChatFormat.Instance, chat.Default);
        Assert.Equal("alpaca", chat.DefaultKind);
        var error = Assert.Throws<ChatFormatException>(() => chat.Resolve("model"));
        Assert.Contains("carries no chat template", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_with_a_template_uses_it_with_its_bos_and_eos_texts()
    {
        var chat = ModelChat.For(Vocab(ChatMl));
        Assert.Equal("model", chat.DefaultKind);
        Assert.Equal("<s><|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", chat.Default!.Render(Hello, addGenerationPrompt: true));
        Assert.True(chat.Default.ParseSpecialTokens);
        Assert.Equal("<s>", chat.BosText);
        Assert.Same(AlpacaChatFormat.Instance, chat.Resolve("alpaca"));
        Assert.Equal("custom", chat.Resolve("{{ messages[0].content }}!").Kind);
        Assert.Equal("Hello!", chat.Resolve("{{ messages[0].content }}!").Render(Hello, true));
    }

    [Fact]
    public void Our_exported_alpaca_template_is_recognised_as_the_alpaca_format()
    {
        var chat = ModelChat.For(Vocab(AlpacaChatFormat.JinjaSource));
        Assert.Same(AlpacaChatFormat.Instance, chat.Default);
    }

    [Fact]
    public void A_choice_at_load_overrides_the_model_template()
    {
        Assert.Same(AlpacaChatFormat.Instance, ModelChat.For(Vocab(ChatMl), "alpaca").Default);
        var error = Assert.Throws<ChatFormatException>(() => ModelChat.For(Vocab(ChatMl), "{% if %}"));
        Assert.Contains("does not parse", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_template_that_does_not_parse_leaves_chat_refused_with_the_reason_and_other_choices_working()
    {
        var chat = ModelChat.For(Vocab("{% for m in messages %}{{ m.content }"));
        Assert.Null(chat.Default);
        var error = Assert.Throws<ChatFormatException>(() => chat.Resolve(null));
        Assert.Contains("tokenizer.chat_template", error.Message, StringComparison.Ordinal);
        Assert.Same(AlpacaChatFormat.Instance, chat.Resolve("alpaca"));
    }

    [Fact]
    public void Raise_exception_is_reported_as_the_template_refusing()
    {
        var format = ModelChat.For(Vocab("{{ raise_exception('Conversation roles must alternate user/assistant') }}")).Default!;
        var error = Assert.Throws<ChatFormatException>(() => format.Render(Hello, true));
        Assert.True(error.RaisedByTemplate);
        Assert.Contains("Conversation roles must alternate user/assistant", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void End_of_turn_tokens_are_llama_cpp_end_of_generation_texts_other_than_eos()
    {
        var vocab = Vocab(ChatMl);
        var chat = ModelChat.For(vocab);
        Assert.Equal([vocab.Count - 1], chat.EndOfTurnTokenIds);
        Assert.Empty(ModelChat.For(LlamaVocabulary.CreateByteFallback(300)).EndOfTurnTokenIds);
    }

    [Fact]
    public void Kwargs_reach_the_template_but_cannot_replace_messages()
    {
        var format = ModelChat.For(Vocab("{{ greeting }} {{ messages | length }}")).Default!;
        var kwargs = new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["greeting"] = "hi", ["messages"] = "spoofed" };
        Assert.Equal("hi 1", format.Render(Hello, true, kwargs));
    }
}
