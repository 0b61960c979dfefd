using System.Text.Json.Nodes;
using Alpaca.Llm.Chat;
using Alpaca.Llm.Chat.Jinja;
using Alpaca.Llm.Prompts;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Chat;

/// <summary>
/// The Alpaca chat template we write into exported models (<see cref="AlpacaChatFormat.JinjaSource"/>) must
/// prompt exactly as our server does (<see cref="AlpacaChatFormat"/>, which is train.py's PROMPT_DICT): rendered
/// by @huggingface/jinja (what transformers.js runs) and by our engine, byte for byte, on every conversation.
/// </summary>
public sealed class AlpacaChatFormatTests
{
    private static ChatMessage M(string role, string content) => new(role, content);

    public static IEnumerable<(string Name, ChatMessage[] Messages)> Conversations()
    {
        yield return ("one-user", [M("user", "Give three tips for staying healthy.")]);
        yield return ("empty-user", [M("user", "")]);
        yield return ("braces-and-jinja", [M("user", "Fill {instruction} and {{ input }} {% raw %}")]);
        yield return ("system-user", [M("system", "You are terse."), M("user", "Capital of France?")]);
        yield return ("developer-user", [M("developer", "Answer in French."), M("user", "Hello")]);
        yield return ("multi-turn", [M("user", "Hi!"), M("assistant", "Hello! How can I help?"), M("user", "Tell me a joke.")]);
        yield return ("whitespace", [M("system", "  Be kind.  "), M("user", " Hi\n"), M("assistant", ""), M("user", "\tWrite \"hello\" in JSON\n")]);
        yield return ("unicode", [M("user", "Traduis: «déjà vu» 🦙 — 日本語")]);
        yield return ("last-not-user", [M("user", "Hi"), M("assistant", "Hello")]);
        yield return ("unknown-role", [M("tool", "{}"), M("user", "Hi")]);
    }

    [Fact]
    public void Single_user_message_is_train_py_no_input_prompt()
    {
        var text = AlpacaChatFormat.Instance.Render([M("user", "Name a color.")], addGenerationPrompt: true);
        Assert.Equal(AlpacaPrompt.Build("Name a color."), text);
        Assert.EndsWith("### Response:", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Earlier_turns_become_the_input_transcript()
    {
        var text = AlpacaChatFormat.Instance.Render([M("system", "Be brief."), M("user", "Hi"), M("assistant", "Hello"), M("user", "Joke?")], addGenerationPrompt: true);
        Assert.Equal(AlpacaPrompt.Build("Joke?", "System: Be brief.\nUser: Hi\nAssistant: Hello"), text);
    }

    [Fact]
    public void Jinja_source_renders_as_the_server_does_in_our_engine_and_in_huggingface_jinja()
    {
        var cases = Conversations().ToList();
        var request = new JsonObject
        {
            ["cases"] = new JsonArray([.. cases.Select(c => (JsonNode)new JsonObject
            {
                ["template"] = AlpacaChatFormat.JinjaSource,
                ["context"] = new JsonObject { ["messages"] = Messages(c.Messages), ["add_generation_prompt"] = true, ["bos_token"] = "<s>", ["eos_token"] = "</s>" },
            })]),
        };
        var oracle = NodeScripts.Jinja(request)["results"]!.AsArray();
        var template = JinjaTemplate.Parse(AlpacaChatFormat.JinjaSource);
        for (var i = 0; i < cases.Count; i++)
        {
            var (name, messages) = cases[i];
            string? expected = null;
            try
            {
                expected = AlpacaChatFormat.Instance.Render(messages, addGenerationPrompt: true);
            }
            catch (ChatFormatException)
            {
            }

            var theirs = oracle[i]!.AsObject();
            string? ours = null;
            try
            {
                ours = template.Render(new Dictionary<string, object?> { ["messages"] = Messages(messages), ["add_generation_prompt"] = true });
            }
            catch (JinjaException ex)
            {
                Assert.True(ex.Raised, $"{name}: {ex.Message}");
            }

            if (expected is null)
            {
                Assert.True(theirs.ContainsKey("error"), $"{name}: @huggingface/jinja rendered a conversation the server refuses: {theirs["output"]}");
                Assert.Null(ours);
            }
            else
            {
                Assert.Equal(expected, (string?)theirs["output"]);
                Assert.Equal(expected, ours);
            }
        }
    }

    private static JsonArray Messages(IEnumerable<ChatMessage> messages) =>
        [.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })];
}
