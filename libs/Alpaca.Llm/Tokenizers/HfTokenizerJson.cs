using System.Text.Json;

namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> (and optionally its <c>tokenizer_config.json</c>) into a
/// <see cref="LlamaVocabulary"/> the way llama.cpp's converter would: BPE with <c>byte_fallback</c>
/// (LLaMA-1/2, TinyLlama) becomes a "llama" SentencePiece vocabulary with scores derived from the merges;
/// BPE with a ByteLevel pre-tokenizer (Llama-3, GPT-2) becomes "gpt2". <see cref="Write"/> is the
/// inverse for gpt2 vocabularies (SentencePiece ones are written as <c>tokenizer.model</c>).
/// </summary>
public static partial class HfTokenizerJson
{
    public const string FileName = "tokenizer.json";

    /// <summary>Llama-3's pre-tokenizer pattern as written in its tokenizer.json.</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static LlamaVocabulary Read(string tokenizerJson, string? tokenizerConfigJson = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        using var doc = Parse(tokenizerJson, "tokenizer.json");
        using var config = tokenizerConfigJson is null ? null : Parse(tokenizerConfigJson, "tokenizer_config.json");
        var root = doc.RootElement;
        var model = Required(root, "model", "tokenizer.json");
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type != "BPE")
        {
            throw new NotSupportedException($"tokenizer.json: model.type '{type}' is not supported; only BPE (LLaMA / Llama-3) is.");
        }

        var byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        var (tokens, types) = ReadTokens(root, model, byteFallback);
        var merges = ReadMerges(model).ToList();
        var byText = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            byText.TryAdd(tokens[i], i);
        }

        int? IdOf(string? text) => text is not null && byText.TryGetValue(text, out var id) ? id : null;
        var bosText = ConfigToken(config, "bos_token") ?? TemplateFirstSpecial(root);
        var eosText = ConfigToken(config, "eos_token");
        var addBos = ConfigBool(config, "add_bos_token") ?? (TemplateFirstSpecial(root) is not null ? true : null);
        var addEos = ConfigBool(config, "add_eos_token");

        if (byteFallback)
        {
            return new LlamaVocabulary
            {
                Model = LlamaVocabulary.SentencePieceModel,
                Tokens = tokens,
                Types = types,
                Scores = MergeScores.Derive(tokens, types, merges),
                BosTokenId = IdOf(bosText) ?? IdOf("<s>"),
                EosTokenId = IdOf(eosText) ?? IdOf("</s>"),
                UnknownTokenId = IdOf(model.TryGetProperty("unk_token", out var unk) ? unk.GetString() : null) ?? IdOf("<unk>"),
                PaddingTokenId = IdOf(ConfigToken(config, "pad_token")),
                AddBosToken = addBos,
                AddEosToken = addEos,
                AddSpacePrefix = AddsPrefixSpace(root),
                ChatTemplate = ChatTemplate(config),
            };
        }

        return new LlamaVocabulary
        {
            Model = LlamaVocabulary.Gpt2Model,
            Tokens = tokens,
            Types = types,
            Merges = merges.Select(m => m.Left + " " + m.Right).ToArray(),
            PreTokenizer = PreTokenizerName(root),
            BosTokenId = IdOf(bosText) ?? IdOf("<|begin_of_text|>") ?? IdOf("<|endoftext|>"),
            EosTokenId = IdOf(eosText) ?? IdOf("<|end_of_text|>") ?? IdOf("<|endoftext|>"),
            PaddingTokenId = IdOf(ConfigToken(config, "pad_token")),
            AddBosToken = addBos,
            AddEosToken = addEos,
            IgnoreMerges = model.TryGetProperty("ignore_merges", out var im) ? im.ValueKind == JsonValueKind.True : null,
            ChatTemplate = ChatTemplate(config),
        };
    }

    private static string? ChatTemplate(JsonDocument? config) =>
        config is not null && config.RootElement.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private static (string[] Tokens, TokenType[] Types) ReadTokens(JsonElement root, JsonElement model, bool byteFallback)
    {
        var entries = new Dictionary<int, (string Text, TokenType Type)>();
        foreach (var entry in Required(model, "vocab", "tokenizer.json model").EnumerateObject())
        {
            var type = byteFallback && IsByteToken(entry.Name) ? TokenType.Byte : TokenType.Normal;
            entries[entry.Value.GetInt32()] = (entry.Name, type);
        }

        var unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                var id = Required(token, "id", "added_tokens entry").GetInt32();
                var text = Required(token, "content", "added_tokens entry").GetString()!;
                var special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                entries[id] = (text, text == unk ? TokenType.Unknown : special ? TokenType.Control : TokenType.UserDefined);
            }
        }

        if (unk is not null)
        {
            foreach (var (id, entry) in entries.Where(e => e.Value.Text == unk).ToList())
            {
                entries[id] = (entry.Text, TokenType.Unknown);
            }
        }

        var count = entries.Count == 0 ? 0 : entries.Keys.Max() + 1;
        var tokens = new string[count];
        var types = new TokenType[count];
        for (var id = 0; id < count; id++)
        {
            // Holes in the id space get llama.cpp converter's placeholder names.
            (tokens[id], types[id]) = entries.TryGetValue(id, out var e) ? e : ($"[PAD{id}]", TokenType.Unused);
        }

        return (tokens, types);
    }

    private static IEnumerable<(string Left, string Right)> ReadMerges(JsonElement model)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var merge in merges.EnumerateArray())
        {
            // Older files write "left right"; newer ones ["left", "right"] (which allows spaces in pieces).
            yield return merge.ValueKind == JsonValueKind.Array
                ? (merge[0].GetString()!, merge[1].GetString()!)
                : MergeScores.ParseMerge(merge.GetString()!);
        }
    }

    private static bool IsByteToken(string text) => text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>';

    private static bool AddsPrefixSpace(JsonElement root)
    {
        // LLaMA-2 style: normalizer Prepend("▁"); newer files: a Metaspace pre-tokenizer with a prepend scheme.
        if (root.TryGetProperty("normalizer", out var normalizer) && OfType(normalizer, "Prepend").Any())
        {
            return true;
        }

        if (!root.TryGetProperty("pre_tokenizer", out var pre))
        {
            return false;
        }

        foreach (var metaspace in OfType(pre, "Metaspace"))
        {
            var scheme = metaspace.TryGetProperty("prepend_scheme", out var s) ? s.GetString() : null;
            var addPrefix = !metaspace.TryGetProperty("add_prefix_space", out var a) || a.ValueKind != JsonValueKind.False;
            return scheme is null ? addPrefix : scheme != "never";
        }

        return false;
    }

    /// <summary>Objects with the given "type" anywhere inside a normalizer / pre-tokenizer tree.</summary>
    private static IEnumerable<JsonElement> OfType(JsonElement element, string type)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type)
            {
                yield return element;
            }

            foreach (var property in element.EnumerateObject())
            {
                foreach (var inner in OfType(property.Value, type))
                {
                    yield return inner;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                foreach (var inner in OfType(item, type))
                {
                    yield return inner;
                }
            }
        }
    }

    private static string PreTokenizerName(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
        {
            throw new NotSupportedException("tokenizer.json: a byte-level BPE tokenizer without a pre_tokenizer is not supported.");
        }

        var regexes = FindRegexes(pre).ToList();
        if (regexes.Contains(Llama3Pattern))
        {
            return "llama3";
        }

        // A ByteLevel pre-tokenizer with use_regex (and no Split of its own) applies GPT-2's pattern.
        if (regexes.Count == 0 && OfType(pre, "ByteLevel").Any(b => !b.TryGetProperty("use_regex", out var u) || u.ValueKind != JsonValueKind.False))
        {
            return "gpt-2";
        }

        throw new NotSupportedException("tokenizer.json: the pre-tokenizer is neither Llama-3's Split regex nor GPT-2's ByteLevel regex.");
    }

    private static IEnumerable<string> FindRegexes(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "Regex" && property.Value.ValueKind == JsonValueKind.String)
                {
                    yield return property.Value.GetString()!;
                }

                foreach (var inner in FindRegexes(property.Value))
                {
                    yield return inner;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                foreach (var inner in FindRegexes(item))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>The first special token of a TemplateProcessing post-processor's single template (the BOS it adds).</summary>
    private static string? TemplateFirstSpecial(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var processors = post.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [post];
        foreach (var processor in processors)
        {
            if (processor.TryGetProperty("type", out var type) && type.GetString() == "TemplateProcessing" &&
                processor.TryGetProperty("single", out var single) && single.ValueKind == JsonValueKind.Array && single.GetArrayLength() > 0 &&
                single[0].TryGetProperty("SpecialToken", out var special))
            {
                return special.GetProperty("id").GetString();
            }
        }

        return null;
    }

    private static string? ConfigToken(JsonDocument? config, string name)
    {
        if (config is null || !config.RootElement.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) => content.GetString(),
            _ => null,
        };
    }

    private static bool? ConfigBool(JsonDocument? config, string name) =>
        config is not null && config.RootElement.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : null;

    private static JsonElement Required(JsonElement element, string name, string where) =>
        element.TryGetProperty(name, out var value) ? value : throw new InvalidDataException($"{where}: required field '{name}' is missing.");

    private static JsonDocument Parse(string json, string what)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", e);
        }
    }
}
