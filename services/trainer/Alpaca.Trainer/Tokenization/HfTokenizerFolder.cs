using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Trainer.Tokenization;

/// <summary>
/// The tokenizer files of a Hugging Face LLaMA checkpoint: <c>tokenizer.model</c> (SentencePiece),
/// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, <c>added_tokens.json</c> and, when
/// present, the fast <c>tokenizer.json</c>. Saving copies them and records tokens we added (train.py's
/// <c>[PAD]</c>) in every file that lists tokens, so HF, PEFT and GGUF converters see the same vocabulary.
/// </summary>
public static class HfTokenizerFolder
{
    public const string ModelFile = "tokenizer.model";
    public const string ConfigFile = "tokenizer_config.json";
    public const string SpecialTokensFile = "special_tokens_map.json";
    public const string AddedTokensFile = "added_tokens.json";
    public const string FastFile = "tokenizer.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static SentencePieceSftTokenizer Load(string folder)
    {
        var model = Path.Combine(folder, ModelFile);
        if (!File.Exists(model))
        {
            throw new FileNotFoundException(
                $"{folder}: no {ModelFile}. The trainer reads SentencePiece (LLaMA-1/2 style) tokenizers; " +
                (File.Exists(Path.Combine(folder, FastFile)) ? $"{FastFile}-only tokenizers are not supported yet." : "no tokenizer found."), model);
        }

        var config = ReadObject(Path.Combine(folder, ConfigFile));
        var specials = ReadObject(Path.Combine(folder, SpecialTokensFile));
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (ReadObject(Path.Combine(folder, AddedTokensFile)) is { } addedJson)
        {
            foreach (var (token, id) in addedJson)
            {
                added[token] = id!.GetValue<int>();
            }
        }

        if (config?["added_tokens_decoder"] is JsonObject decoder)
        {
            foreach (var (id, entry) in decoder)
            {
                if (entry?["content"]?.GetValue<string>() is { } content && int.TryParse(id, out var numeric))
                {
                    added.TryAdd(content, numeric);
                }
            }
        }

        var pad = TokenText(config?["pad_token"]) ?? TokenText(specials?["pad_token"]);
        var addBos = config?["add_bos_token"]?.GetValue<bool>() ?? true;
        var proto = File.ReadAllBytes(model);
        var probe = new SentencePieceSftTokenizer(proto, source: model);

        // Added-token lists repeat the SentencePiece pieces (<unk>, <s>, </s>); keep only real additions.
        var extra = added.Where(kv => kv.Value >= probe.BaseVocabularySize).ToDictionary(kv => kv.Key, kv => kv.Value);
        return new SentencePieceSftTokenizer(proto, extra, pad, addBos, model);
    }

    /// <summary>Writes the tokenizer into <paramref name="destination"/>, copying <paramref name="source"/>'s files when given.</summary>
    public static void Save(string destination, SentencePieceSftTokenizer tokenizer, string? source, int modelMaxLength)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in new[] { ConfigFile, SpecialTokensFile, AddedTokensFile, FastFile })
        {
            var from = source is null ? null : Path.Combine(source, file);
            if (from is not null && File.Exists(from) && Path.GetFullPath(from) != Path.GetFullPath(Path.Combine(destination, file)))
            {
                File.Copy(from, Path.Combine(destination, file), overwrite: true);
            }
        }

        File.WriteAllBytes(Path.Combine(destination, ModelFile), tokenizer.ModelProto);

        var config = ReadObject(Path.Combine(destination, ConfigFile)) ?? new JsonObject
        {
            ["tokenizer_class"] = "LlamaTokenizer",
            ["add_bos_token"] = tokenizer.BosId is not null,
            ["add_eos_token"] = false,
            ["bos_token"] = "<s>",
            ["eos_token"] = "</s>",
            ["unk_token"] = "<unk>",
            ["clean_up_tokenization_spaces"] = false,
            ["legacy"] = true,
            ["padding_side"] = "right",
        };
        config["model_max_length"] = modelMaxLength;
        var specials = ReadObject(Path.Combine(destination, SpecialTokensFile)) ?? new JsonObject
        {
            ["bos_token"] = "<s>",
            ["eos_token"] = "</s>",
            ["unk_token"] = "<unk>",
        };

        if (tokenizer.PadToken is { } pad)
        {
            config["pad_token"] = pad;
            specials["pad_token"] = pad;
        }

        if (tokenizer.AddedTokens.Count > 0)
        {
            var decoder = config["added_tokens_decoder"] as JsonObject;
            if (decoder is not null)
            {
                foreach (var (token, id) in tokenizer.AddedTokens)
                {
                    decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
                    {
                        ["content"] = token,
                        ["lstrip"] = false,
                        ["normalized"] = false,
                        ["rstrip"] = false,
                        ["single_word"] = false,
                        ["special"] = true,
                    };
                }
            }

            var addedJson = new JsonObject();
            foreach (var (token, id) in tokenizer.AddedTokens.OrderBy(kv => kv.Value))
            {
                addedJson[token] = id;
            }

            Write(Path.Combine(destination, AddedTokensFile), addedJson);
            AddToFastTokenizer(Path.Combine(destination, FastFile), tokenizer.AddedTokens);
        }

        Write(Path.Combine(destination, ConfigFile), config);
        Write(Path.Combine(destination, SpecialTokensFile), specials);
    }

    private static void AddToFastTokenizer(string path, IReadOnlyDictionary<string, int> added)
    {
        if (ReadObject(path) is not { } fast)
        {
            return;
        }

        if (fast["added_tokens"] is not JsonArray list)
        {
            fast["added_tokens"] = list = [];
        }

        foreach (var (token, id) in added)
        {
            if (!list.Any(e => e?["id"]?.GetValue<int>() == id))
            {
                list.Add(new JsonObject
                {
                    ["id"] = id,
                    ["content"] = token,
                    ["single_word"] = false,
                    ["lstrip"] = false,
                    ["rstrip"] = false,
                    ["normalized"] = false,
                    ["special"] = true,
                });
            }
        }

        Write(path, fast);
    }

    private static string? TokenText(JsonNode? node) => node switch
    {
        null => null,
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

    private static void Write(string path, JsonObject o) => File.WriteAllText(path, o.ToJsonString(Indented));
}
