using System.Text.Json.Nodes;

namespace Alpaca.Llm.Tokenizers;

/// <summary>Writes a byte-level (gpt2) vocabulary as a transformers <c>tokenizer.json</c> that <see cref="HfTokenizerJson.Read"/> reads back unchanged.</summary>
public static partial class HfTokenizerJson
{
    public static string Write(LlamaVocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        vocab.Validate();
        if (vocab.Model != LlamaVocabulary.Gpt2Model)
        {
            throw new ArgumentException($"Only gpt2 (byte-level BPE) vocabularies are written as {FileName}; '{vocab.Model}' ones go to tokenizer.model.");
        }

        var vocabObj = new JsonObject();
        var added = new JsonArray();
        for (var i = 0; i < vocab.Count; i++)
        {
            if (vocab.Types[i] is TokenType.Control or TokenType.UserDefined or TokenType.Unknown)
            {
                added.Add(AddedToken(i, vocab.Tokens[i], special: vocab.Types[i] != TokenType.UserDefined));
            }
            else
            {
                vocabObj[vocab.Tokens[i]] = i;
            }
        }

        // Llama-3 writes its regex as a Split before a regex-less ByteLevel; GPT-2's ByteLevel applies its own.
        var llama3 = LlamaVocabulary.IsLlama3PreTokenizer(vocab.PreTokenizer);
        JsonNode byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = !llama3 };
        var preTokenizer = llama3
            ? new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    byteLevel),
            }
            : byteLevel.DeepClone();
        var model = new JsonObject
        {
            ["type"] = "BPE",
            ["dropout"] = null,
            ["unk_token"] = vocab.TextOf(vocab.UnknownTokenId),
            ["byte_fallback"] = false,
            ["vocab"] = vocabObj,
            ["merges"] = new JsonArray(vocab.Merges!.Select(m => (JsonNode)m).ToArray()),
        };
        if (vocab.IgnoreMerges is { } ignore)
        {
            model["ignore_merges"] = ignore;
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = model,
        };
        return root.ToJsonString();
    }

    /// <summary>An <c>added_tokens</c> entry as transformers writes it.</summary>
    public static JsonObject AddedToken(int id, string content, bool special) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = special,
    };
}
