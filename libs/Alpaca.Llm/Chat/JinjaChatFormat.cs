using System.Text.Json.Nodes;
using Alpaca.Llm.Chat.Jinja;

namespace Alpaca.Llm.Chat;

/// <summary>
/// A Hugging Face chat template, parsed once (at model load or per request) and rendered with the variables
/// transformers' <c>apply_chat_template</c> passes: <c>messages</c>, <c>add_generation_prompt</c>,
/// <c>bos_token</c> and <c>eos_token</c> (the special tokens' texts, "" when the vocabulary has none), plus any
/// caller kwargs. Rendering is bounded (<see cref="RenderLimits"/>): a hostile template fails, never hangs.
/// </summary>
public sealed class JinjaChatFormat : ChatFormat
{
    private readonly JinjaTemplate _template;
    private readonly string _bos;
    private readonly string _eos;
    private readonly RenderLimits _limits;

    private JinjaChatFormat(JinjaTemplate template, string kind, string bos, string eos, RenderLimits limits)
    {
        _template = template;
        Kind = kind;
        _bos = bos;
        _eos = eos;
        _limits = limits;
    }

    public override string Kind { get; }

    public override bool ParseSpecialTokens => true;

    public string Source => _template.Source;

    /// <summary>Parses <paramref name="source"/>; a syntax error is a <see cref="ChatFormatException"/> naming line and column.</summary>
    public static JinjaChatFormat Parse(string source, string kind, string? bosToken, string? eosToken, RenderLimits? limits = null)
    {
        try
        {
            return new JinjaChatFormat(JinjaTemplate.Parse(source), kind, bosToken ?? "", eosToken ?? "", limits ?? new RenderLimits());
        }
        catch (JinjaException ex)
        {
            throw new ChatFormatException($"The chat template does not parse: {ex.Message}", inner: ex);
        }
    }

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonNode?>? extra = null)
    {
        var list = new JsonArray();
        foreach (var m in messages)
        {
            list.Add(new JsonObject { ["role"] = m.Role, ["content"] = m.Content });
        }

        var variables = new Dictionary<string, object?>();
        foreach (var (name, value) in extra ?? new Dictionary<string, JsonNode?>())
        {
            variables[name] = value?.DeepClone();
        }

        // transformers: the kwargs first, then the fixed names, which a caller cannot override.
        variables["messages"] = list;
        variables["add_generation_prompt"] = addGenerationPrompt;
        variables["bos_token"] = _bos;
        variables["eos_token"] = _eos;
        try
        {
            return _template.Render(variables, _limits);
        }
        catch (JinjaException ex) when (ex.Raised)
        {
            throw new ChatFormatException($"The chat template refused the conversation: {ex.Reason}", raisedByTemplate: true, ex);
        }
        catch (JinjaException ex)
        {
            throw new ChatFormatException($"The chat template failed to render: {ex.Message}", inner: ex);
        }
    }
}
