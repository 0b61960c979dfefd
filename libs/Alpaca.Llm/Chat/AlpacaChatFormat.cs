using System.Text;
using System.Text.Json.Nodes;
using Alpaca.Llm.Prompts;

namespace Alpaca.Llm.Chat;

/// <summary>
/// A conversation in the one prompt shape an Alpaca model was trained on: the last message, which must be the
/// user's, is the <b>instruction</b>; everything before it (system or developer messages and earlier turns)
/// becomes the <b>input</b>, as a transcript with one "System: / User: / Assistant: " line per message. A
/// single user message therefore gets exactly the no-input template of train.py (<see cref="AlpacaPrompt"/>).
/// <see cref="JinjaSource"/> is the same mapping as a chat template, written into the GGUF and
/// tokenizer_config.json the trainer exports, so other runtimes (llama.cpp, transformers) prompt our
/// fine-tunes the same way; a test renders it through @huggingface/jinja against this class.
/// </summary>
public sealed class AlpacaChatFormat : ChatFormat
{
    public static readonly AlpacaChatFormat Instance = new();

    /// <summary>The Alpaca mapping as a Hugging Face chat template (add_generation_prompt has no effect: the prompt always ends in "### Response:").</summary>
    public const string JinjaSource =
        "{%- if messages | length == 0 or messages[-1]['role'] != 'user' -%}" +
        "{{- raise_exception('The last message must be the user\\'s: it becomes the Alpaca instruction.') -}}" +
        "{%- endif -%}" +
        "{%- if messages | length == 1 -%}" +
        "{{- 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\\n\\n### Instruction:\\n' + messages[0]['content'] + '\\n\\n### Response:' -}}" +
        "{%- else -%}" +
        "{%- set ns = namespace(input='') -%}" +
        "{%- for message in messages[:-1] -%}" +
        "{%- if message['role'] not in ['system', 'developer', 'user', 'assistant'] -%}" +
        "{{- raise_exception('messages[' ~ loop.index0 ~ '].role = \\'' ~ message['role'] ~ '\\' is not supported by the Alpaca template (system, developer, user, assistant).') -}}" +
        "{%- endif -%}" +
        "{%- set role = 'User' if message['role'] == 'user' else ('Assistant' if message['role'] == 'assistant' else 'System') -%}" +
        "{%- set ns.input = ns.input + ('' if loop.first else '\\n') + role + ': ' + message['content'] -%}" +
        "{%- endfor -%}" +
        "{{- 'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\\n\\n### Instruction:\\n' + messages[-1]['content'] + '\\n\\n### Input:\\n' + ns.input + '\\n\\n### Response:' -}}" +
        "{%- endif -%}";

    private AlpacaChatFormat()
    {
    }

    public override string Kind => "alpaca";

    public override bool ParseSpecialTokens => false;

    /// <summary>The roles the transcript names; anything else is refused rather than guessed.</summary>
    public static bool IsKnownRole(string role) => role is "system" or "developer" or "user" or "assistant";

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, JsonNode?>? extra = null)
    {
        var (instruction, input) = ToInstruction(messages);
        return AlpacaPrompt.Build(instruction, input);
    }

    /// <summary>The instruction and input the conversation maps to (input null for a single user message).</summary>
    public static (string Instruction, string? Input) ToInstruction(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 0)
        {
            throw new ChatFormatException("The conversation is empty: the last message must be the user's (it becomes the Alpaca instruction).");
        }

        for (var i = 0; i < messages.Count; i++)
        {
            if (!IsKnownRole(messages[i].Role))
            {
                throw new ChatFormatException($"messages[{i}].role = '{messages[i].Role}' is not supported by the Alpaca template (system, developer, user, assistant).");
            }
        }

        if (messages[^1].Role != "user")
        {
            throw new ChatFormatException($"The last message must be the user's (it is '{messages[^1].Role}'): it becomes the Alpaca instruction.");
        }

        if (messages.Count == 1)
        {
            return (messages[0].Content, null);
        }

        var transcript = new StringBuilder();
        for (var i = 0; i < messages.Count - 1; i++)
        {
            if (i > 0)
            {
                transcript.Append('\n');
            }

            var role = messages[i].Role switch { "user" => "User", "assistant" => "Assistant", _ => "System" };
            transcript.Append(role).Append(": ").Append(messages[i].Content);
        }

        return (messages[^1].Content, transcript.ToString());
    }
}
