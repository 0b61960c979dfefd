using System.Text.Json.Nodes;

namespace Alpaca.Llm.Chat;

/// <summary>
/// Turns a conversation into the prompt text a model was trained on: the model's own Jinja template
/// (<c>tokenizer.chat_template</c>), or the Alpaca template for our fine-tunes.
/// </summary>
public abstract class ChatFormat
{
    /// <summary>"alpaca", "model" (the template the file carries) or "custom" (one given at load or per request).</summary>
    public abstract string Kind { get; }

    /// <summary>
    /// Whether special-token texts in the rendered prompt (<c>&lt;|im_start|&gt;</c>, <c>&lt;s&gt;</c>) are
    /// tokenized as the special tokens, as transformers and llama.cpp do for a rendered chat template.
    /// The Alpaca format keeps them as text, as training tokenized the user's text.
    /// </summary>
    public abstract bool ParseSpecialTokens { get; }

    /// <summary>
    /// Renders <paramref name="messages"/>; <paramref name="extra"/> are further template variables
    /// (vLLM's <c>chat_template_kwargs</c>). Throws <see cref="ChatFormatException"/>.
    /// </summary>
    public abstract string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonNode?>? extra = null);
}
