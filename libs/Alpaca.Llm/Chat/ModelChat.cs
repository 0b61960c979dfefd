using Alpaca.Llm.Tokenizers;

namespace Alpaca.Llm.Chat;

/// <summary>
/// How one served model formats chat: its default <see cref="ChatFormat"/> and the end-of-turn tokens that
/// end a generation like EOS. A format is named by a <i>choice</i>, per model (at load) or per request:
/// <list type="bullet">
/// <item>"" or "auto": the template the model file carries (<c>tokenizer.chat_template</c>), else Alpaca;</item>
/// <item>"alpaca": the Alpaca template (what our trainer fine-tunes on);</item>
/// <item>"model": the file's template, an error when it has none;</item>
/// <item>anything else: the text of a Jinja chat template (vLLM's <c>chat_template</c>).</item>
/// </list>
/// The file's template is parsed once here; when it does not parse the model still serves completions and
/// chat requests get the parse error (or use another choice).
/// </summary>
public sealed class ModelChat
{
    /// <summary>
    /// llama.cpp's end-of-generation token texts (llama-vocab.cpp): a chat model ends its turn with one of
    /// these rather than with EOS (Llama 3's &lt;|eot_id|&gt;, ChatML's &lt;|im_end|&gt;, Gemma's &lt;end_of_turn&gt;).
    /// </summary>
    public static readonly IReadOnlyList<string> EndOfGenerationTexts =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>"];

    private readonly string? _eos;
    private readonly ChatFormat? _model;
    private readonly string? _modelError;

    private ModelChat(LlamaVocabulary vocab)
    {
        var resolved = vocab.LlamaCppDefaults();
        BosText = resolved.TextOf(resolved.BosTokenId);
        _eos = resolved.TextOf(resolved.EosTokenId);
        if (vocab.ChatTemplate is { } source)
        {
            try
            {
                _model = source == AlpacaChatFormat.JinjaSource ? AlpacaChatFormat.Instance : JinjaChatFormat.Parse(source, "model", BosText, _eos);
            }
            catch (ChatFormatException ex)
            {
                _modelError = $"The model's own chat template (tokenizer.chat_template) does not parse: {ex.InnerException?.Message ?? ex.Message}";
            }
        }

        // EOS is the scheduler's own rule, so it is not repeated here.
        EndOfTurnTokenIds = [.. EndOfGenerationTexts.Select(resolved.IdOf).OfType<int>().Where(id => id != resolved.EosTokenId).Distinct().Order()];
    }

    /// <summary>The model's default format, or null when its own template is chosen but does not parse.</summary>
    public ChatFormat? Default { get; private set; }

    /// <summary>The default's kind ("alpaca", "model", "custom"), for ListModels.</summary>
    public string DefaultKind { get; private set; } = "alpaca";

    /// <summary>The BOS token's text, so a rendered prompt that already begins with it gets no second BOS.</summary>
    public string? BosText { get; }

    /// <summary>Tokens other than EOS that end a generation like EOS (llama.cpp's end-of-generation set present in this vocabulary).</summary>
    public IReadOnlyList<int> EndOfTurnTokenIds { get; }

    /// <summary>The chat set-up of a model with <paramref name="vocab"/>, its default chosen by <paramref name="choice"/> (throws <see cref="ChatFormatException"/> for a bad choice).</summary>
    public static ModelChat For(LlamaVocabulary vocab, string? choice = null)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        var chat = new ModelChat(vocab);
        var isAuto = string.IsNullOrEmpty(choice) || choice == "auto";
        // A model whose own template does not parse still loads; its chat requests report why (or choose another).
        chat.Default = isAuto && chat._modelError is not null ? null : chat.Resolve(isAuto ? "auto" : choice);
        chat.DefaultKind = chat.Default?.Kind ?? "model";
        return chat;
    }

    /// <summary>The format for one request: <paramref name="choice"/> null = the model's default.</summary>
    public ChatFormat Resolve(string? choice)
    {
        if (choice is null)
        {
            return Default ?? throw new ChatFormatException(_modelError ?? "The model has no chat format.");
        }

        switch (choice)
        {
            case "" or "auto":
                return _model ?? (_modelError is not null ? throw new ChatFormatException(_modelError) : AlpacaChatFormat.Instance);
            case "alpaca":
                return AlpacaChatFormat.Instance;
            case "model":
                return _model ?? throw new ChatFormatException(_modelError ?? "The model file carries no chat template (tokenizer.chat_template); use 'alpaca' or give a template.");
            default:
                return JinjaChatFormat.Parse(choice, "custom", BosText, _eos);
        }
    }
}
