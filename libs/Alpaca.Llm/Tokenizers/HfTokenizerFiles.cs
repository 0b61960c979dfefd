using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// The tokenizer files of a Hugging Face model folder ↔ one <see cref="LlamaVocabulary"/>: the vocabulary
/// file (<c>tokenizer.model</c>, SentencePiece, preferred as llama.cpp's converter does; else
/// <c>tokenizer.json</c>), the tokens added on top of it (<c>added_tokens.json</c>, the
/// <c>added_tokens_decoder</c> of <c>tokenizer_config.json</c>, e.g. train.py's <c>[PAD]</c>) and the
/// special tokens and flags (<c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>).
/// </summary>
public static class HfTokenizerFiles
{
    public const string TokenizerConfigJson = "tokenizer_config.json";
    public const string SpecialTokensMapJson = "special_tokens_map.json";
    public const string AddedTokensJson = "added_tokens.json";

    /// <summary>Every tokenizer file of a folder, vocabulary files first.</summary>
    public static readonly string[] FileNames = [SentencePieceModelFile.FileName, HfTokenizerJson.FileName, TokenizerConfigJson, SpecialTokensMapJson, AddedTokensJson];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Whether <paramref name="directory"/> holds a vocabulary file.</summary>
    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, SentencePieceModelFile.FileName)) || File.Exists(Path.Combine(directory, HfTokenizerJson.FileName));

    /// <summary>Reads the folder's vocabulary with its added and special tokens, or null when it has no vocabulary file.</summary>
    public static LlamaVocabulary? Read(string directory)
    {
        var config = ReadObject(Path.Combine(directory, TokenizerConfigJson));
        var vocab = ReadVocabularyFile(directory);
        if (vocab is null)
        {
            return null;
        }

        var specials = ReadObject(Path.Combine(directory, SpecialTokensMapJson));
        string? Special(string name) => TokenText(config?[name]) ?? TokenText(specials?[name]);
        vocab = AppendAddedTokens(vocab, directory, config, [Special("bos_token"), Special("eos_token"), Special("unk_token"), Special("pad_token")]);
        return vocab with
        {
            BosTokenId = vocab.IdOf(Special("bos_token")) ?? vocab.BosTokenId,
            EosTokenId = vocab.IdOf(Special("eos_token")) ?? vocab.EosTokenId,
            UnknownTokenId = vocab.IdOf(Special("unk_token")) ?? vocab.UnknownTokenId,
            PaddingTokenId = Special("pad_token") is { } pad
                ? vocab.IdOf(pad) ?? throw new InvalidDataException($"{directory}: pad token '{pad}' is neither in the vocabulary nor an added token.")
                : vocab.PaddingTokenId,
            AddBosToken = Bool(config, "add_bos_token") ?? vocab.AddBosToken,
            AddEosToken = Bool(config, "add_eos_token") ?? vocab.AddEosToken,
            ChatTemplate = config?["chat_template"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : vocab.ChatTemplate,
        };
    }

    /// <summary>
    /// Writes <paramref name="vocab"/>'s tokenizer files. With <paramref name="copyFrom"/> (the base model's
    /// folder) its files are copied unchanged, as <c>save_pretrained</c> keeps the vocabulary file, and the
    /// tokens past the copied vocabulary are recorded as added tokens in every file that lists tokens, so HF,
    /// PEFT and GGUF converters see the same vocabulary. Without it, the vocabulary file is written from
    /// <paramref name="vocab"/> (<c>tokenizer.model</c> for SentencePiece, <c>tokenizer.json</c> for gpt2).
    /// </summary>
    public static void Write(string directory, LlamaVocabulary vocab, string? copyFrom = null, int? modelMaxLength = null)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        vocab.Validate();
        Directory.CreateDirectory(directory);
        var baseCount = copyFrom is not null && Exists(copyFrom) ? CopyFiles(copyFrom, directory) : WriteVocabularyFile(directory, vocab);
        if (baseCount > vocab.Count)
        {
            throw new ArgumentException($"{copyFrom}: its vocabulary has {baseCount} tokens, more than the {vocab.Count} being saved.");
        }

        var added = Enumerable.Range(baseCount, vocab.Count - baseCount).ToDictionary(id => id, id => vocab.Tokens[id]);
        var config = ReadObject(Path.Combine(directory, TokenizerConfigJson)) ?? DefaultConfig(vocab);
        var specials = ReadObject(Path.Combine(directory, SpecialTokensMapJson)) ?? [];
        foreach (var (name, id) in new[] { ("bos_token", vocab.BosTokenId), ("eos_token", vocab.EosTokenId), ("unk_token", vocab.UnknownTokenId), ("pad_token", vocab.PaddingTokenId) })
        {
            if (vocab.TextOf(id) is { } text)
            {
                // Keep an existing entry's form (string or AddedToken object) when it names the same token.
                if (TokenText(config[name]) != text)
                {
                    config[name] = text;
                }

                if (TokenText(specials[name]) != text)
                {
                    specials[name] = text;
                }
            }
        }

        if (modelMaxLength is { } max)
        {
            config["model_max_length"] = max;
        }

        if (added.Count > 0)
        {
            if (config["added_tokens_decoder"] is JsonObject decoder)
            {
                foreach (var (id, token) in added)
                {
                    var entry = HfTokenizerJson.AddedToken(id, token, vocab.Types[id] != TokenType.UserDefined);
                    entry.Remove("id");
                    decoder[id.ToString(CultureInfo.InvariantCulture)] = entry;
                }
            }

            var addedJson = ReadObject(Path.Combine(directory, AddedTokensJson)) ?? [];
            foreach (var (id, token) in added)
            {
                addedJson[token] = id;
            }

            WriteObject(Path.Combine(directory, AddedTokensJson), addedJson);
            AddToTokenizerJson(Path.Combine(directory, HfTokenizerJson.FileName), added, vocab);
        }

        WriteObject(Path.Combine(directory, TokenizerConfigJson), config);
        WriteObject(Path.Combine(directory, SpecialTokensMapJson), specials);
    }

    private static LlamaVocabulary? ReadVocabularyFile(string directory)
    {
        var spm = Path.Combine(directory, SentencePieceModelFile.FileName);
        if (File.Exists(spm))
        {
            return SentencePieceModelFile.Read(spm);
        }

        var json = Path.Combine(directory, HfTokenizerJson.FileName);
        return File.Exists(json) ? TokenizerFile.Read(json) : null;
    }

    /// <summary>Tokens past the vocabulary file: added_tokens.json, tokenizer_config's added_tokens_decoder, tokenizer.json's added_tokens.</summary>
    private static LlamaVocabulary AppendAddedTokens(LlamaVocabulary vocab, string directory, JsonObject? config, string?[] specialTexts)
    {
        var added = new SortedDictionary<int, (string Text, bool? Special)>();
        if (ReadObject(Path.Combine(directory, AddedTokensJson)) is { } addedJson)
        {
            foreach (var (token, id) in addedJson)
            {
                added[id!.GetValue<int>()] = (token, null);
            }
        }

        if (config?["added_tokens_decoder"] is JsonObject decoder)
        {
            foreach (var (key, entry) in decoder)
            {
                if (entry?["content"]?.GetValue<string>() is { } content && int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    added[id] = (content, entry["special"]?.GetValue<bool>());
                }
            }
        }

        if (File.Exists(Path.Combine(directory, SentencePieceModelFile.FileName)) && ReadObject(Path.Combine(directory, HfTokenizerJson.FileName))?["added_tokens"] is JsonArray fast)
        {
            foreach (var entry in fast.OfType<JsonObject>())
            {
                added.TryAdd(entry["id"]!.GetValue<int>(), (entry["content"]!.GetValue<string>(), entry["special"]?.GetValue<bool>()));
            }
        }

        // Lists repeat the vocabulary file's own pieces (<unk>, <s>, </s>); only ids past it are additions.
        var extra = added.Where(kv => kv.Key >= vocab.Count).ToList();
        if (extra.Count == 0)
        {
            return vocab;
        }

        if (extra[^1].Key != vocab.Count + extra.Count - 1)
        {
            throw new InvalidDataException($"{directory}: added token ids {string.Join(", ", extra.Select(e => e.Key))} do not continue the {vocab.Count}-token vocabulary without gaps.");
        }

        var types = extra.Select(e => e.Value.Special ?? specialTexts.Contains(e.Value.Text) ? TokenType.Control : TokenType.UserDefined);
        return vocab with
        {
            Tokens = [.. vocab.Tokens, .. extra.Select(e => e.Value.Text)],
            Types = [.. vocab.Types, .. types],
            Scores = vocab.Scores is null ? null : [.. vocab.Scores, .. extra.Select(_ => 0f)],
        };
    }

    /// <summary>Copies the source's tokenizer files; returns the size of the copied vocabulary file.</summary>
    private static int CopyFiles(string source, string destination)
    {
        foreach (var file in FileNames)
        {
            var from = Path.Combine(source, file);
            var to = Path.Combine(destination, file);
            if (File.Exists(from) && Path.GetFullPath(from) != Path.GetFullPath(to))
            {
                File.Copy(from, to, overwrite: true);
            }
        }

        return ReadVocabularyFile(destination)!.Count;
    }

    private static int WriteVocabularyFile(string directory, LlamaVocabulary vocab)
    {
        if (vocab.Model == LlamaVocabulary.Gpt2Model)
        {
            File.WriteAllText(Path.Combine(directory, HfTokenizerJson.FileName), HfTokenizerJson.Write(vocab));
            File.Delete(Path.Combine(directory, SentencePieceModelFile.FileName));
        }
        else
        {
            SentencePieceModelFile.Write(Path.Combine(directory, SentencePieceModelFile.FileName), vocab);
            File.Delete(Path.Combine(directory, HfTokenizerJson.FileName));
        }

        // Stale files of another tokenizer would otherwise be read as this one's additions.
        File.Delete(Path.Combine(directory, AddedTokensJson));
        File.Delete(Path.Combine(directory, TokenizerConfigJson));
        File.Delete(Path.Combine(directory, SpecialTokensMapJson));
        return vocab.Count;
    }

    private static JsonObject DefaultConfig(LlamaVocabulary vocab)
    {
        var defaults = vocab.LlamaCppDefaults();
        var config = new JsonObject
        {
            ["tokenizer_class"] = vocab.Model == LlamaVocabulary.SentencePieceModel ? "LlamaTokenizer" : "PreTrainedTokenizerFast",
            ["add_bos_token"] = defaults.AddBosToken,
            ["add_eos_token"] = defaults.AddEosToken,
            ["clean_up_tokenization_spaces"] = false,
            ["legacy"] = true,
            ["padding_side"] = "right",
        };
        if (vocab.ChatTemplate is not null)
        {
            config["chat_template"] = vocab.ChatTemplate;
        }

        return config;
    }

    private static void AddToTokenizerJson(string path, Dictionary<int, string> added, LlamaVocabulary vocab)
    {
        if (ReadObject(path) is not { } fast)
        {
            return;
        }

        if (fast["added_tokens"] is not JsonArray list)
        {
            fast["added_tokens"] = list = [];
        }

        foreach (var (id, token) in added)
        {
            if (!list.Any(e => e?["id"]?.GetValue<int>() == id))
            {
                list.Add(HfTokenizerJson.AddedToken(id, token, vocab.Types[id] != TokenType.UserDefined));
            }
        }

        File.WriteAllText(path, fast.ToJsonString());
    }

    private static bool? Bool(JsonObject? config, string name) =>
        config?[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    private static string? TokenText(JsonNode? node) => node switch
    {
        JsonObject o => o["content"]?.GetValue<string>(),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => null,
    };

    private static JsonObject? ReadObject(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    private static void WriteObject(string path, JsonObject o) => File.WriteAllText(path, o.ToJsonString(Indented));
}
