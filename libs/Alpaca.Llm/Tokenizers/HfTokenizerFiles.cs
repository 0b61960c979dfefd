using System.Text.Json;
using System.Text.Json.Nodes;

namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// The tokenizer files of a Hugging Face model folder ↔ <see cref="LlamaVocabulary"/>.
/// Reading prefers <c>tokenizer.model</c> (SentencePiece, what llama.cpp's converter uses for LLaMA),
/// then <c>tokenizer.json</c> (BPE: byte_fallback → SentencePiece-style "llama", else byte-level "gpt2").
/// <c>tokenizer_config.json</c> supplies add_bos/add_eos and the chat template when present.
/// </summary>
public static class HfTokenizerFiles
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerConfigJson = "tokenizer_config.json";

    /// <summary>Reads the folder's vocabulary, or null when it has no tokenizer files.</summary>
    public static LlamaVocabulary? Read(string directory)
    {
        var spm = Path.Combine(directory, SentencePieceModelFile.FileName);
        var json = Path.Combine(directory, TokenizerJson);
        LlamaVocabulary? vocab = File.Exists(spm) ? SentencePieceModelFile.Read(spm)
            : File.Exists(json) ? ReadTokenizerJson(json)
            : null;
        if (vocab is null)
        {
            return null;
        }

        var configPath = Path.Combine(directory, TokenizerConfigJson);
        if (File.Exists(configPath) && Parse(configPath) is JsonObject cfg)
        {
            vocab = vocab with
            {
                AddBosToken = cfg["add_bos_token"]?.GetValue<bool>() ?? vocab.AddBosToken,
                AddEosToken = cfg["add_eos_token"]?.GetValue<bool>() ?? vocab.AddEosToken,
                ChatTemplate = cfg["chat_template"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : vocab.ChatTemplate,
            };
        }

        return vocab;
    }

    /// <summary>Writes tokenizer.model (SentencePiece) or tokenizer.json (gpt2), plus tokenizer_config.json.</summary>
    public static void Write(string directory, LlamaVocabulary vocab)
    {
        vocab.Validate();
        if (vocab.Model == LlamaVocabulary.SentencePieceModel)
        {
            SentencePieceModelFile.Write(Path.Combine(directory, SentencePieceModelFile.FileName), vocab);
        }
        else
        {
            File.WriteAllText(Path.Combine(directory, TokenizerJson), Gpt2TokenizerJson(vocab));
        }

        var config = new JsonObject
        {
            ["tokenizer_class"] = vocab.Model == LlamaVocabulary.SentencePieceModel ? "LlamaTokenizer" : "PreTrainedTokenizerFast",
            ["bos_token"] = vocab.Tokens[vocab.BosTokenId],
            ["eos_token"] = vocab.Tokens[vocab.EosTokenId],
            ["add_bos_token"] = vocab.AddBosToken,
            ["add_eos_token"] = vocab.AddEosToken,
            ["legacy"] = true,
            ["clean_up_tokenization_spaces"] = false,
        };
        if (vocab.UnknownTokenId is { } unk)
        {
            config["unk_token"] = vocab.Tokens[unk];
        }

        if (vocab.ChatTemplate is not null)
        {
            config["chat_template"] = vocab.ChatTemplate;
        }

        File.WriteAllText(Path.Combine(directory, TokenizerConfigJson), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonNode? Parse(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    /// <summary>Reads a transformers <c>tokenizer.json</c> whose model is BPE.</summary>
    public static LlamaVocabulary ReadTokenizerJson(string path)
    {
        var root = Parse(path) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object.");
        var model = root["model"] as JsonObject ?? throw new InvalidDataException($"{path}: 'model' is missing.");
        if (model["type"]?.GetValue<string>() is { } type && type != "BPE")
        {
            throw new InvalidDataException($"{path}: model.type '{type}' is not supported (only BPE).");
        }

        var vocabObj = model["vocab"] as JsonObject ?? throw new InvalidDataException($"{path}: 'model.vocab' is missing.");
        var byId = new SortedDictionary<int, string>();
        foreach (var (token, idNode) in vocabObj)
        {
            byId[idNode!.GetValue<int>()] = token;
        }

        var special = new HashSet<int>();
        if (root["added_tokens"] is JsonArray added)
        {
            foreach (var t in added.OfType<JsonObject>())
            {
                var id = t["id"]!.GetValue<int>();
                byId[id] = t["content"]!.GetValue<string>();
                if (t["special"]?.GetValue<bool>() ?? false)
                {
                    special.Add(id);
                }
            }
        }

        var count = byId.Count == 0 ? 0 : byId.Keys.Max() + 1;
        if (count != byId.Count)
        {
            throw new InvalidDataException($"{path}: token ids are not contiguous ({byId.Count} tokens, highest id {count - 1}).");
        }

        var tokens = byId.Values.ToArray();
        var merges = ReadMerges(model["merges"], path);
        var byteFallback = model["byte_fallback"]?.GetValue<bool>() ?? false;
        var unkToken = model["unk_token"]?.GetValue<string>();
        var types = new TokenType[count];
        for (var i = 0; i < count; i++)
        {
            types[i] = tokens[i] == unkToken ? TokenType.Unknown
                : special.Contains(i) ? TokenType.Control
                : byteFallback && IsByteToken(tokens[i]) ? TokenType.Byte
                : TokenType.Normal;
        }

        int? Find(params string[] candidates) =>
            candidates.Select(c => Array.IndexOf(tokens, c)).FirstOrDefault(i => i >= 0, -1) is var i && i >= 0 ? i : null;

        if (byteFallback)
        {
            // SentencePiece merges by the score of the merged piece: rank r → score −r reproduces BPE priority.
            var scores = new float[count];
            var index = tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i, StringComparer.Ordinal);
            for (var r = 0; r < merges.Length; r++)
            {
                var parts = merges[r].Split(' ', 2);
                if (parts.Length == 2 && index.TryGetValue(parts[0] + parts[1], out var id) && scores[id] == 0)
                {
                    scores[id] = -(r + 1);
                }
            }

            return new LlamaVocabulary
            {
                Model = LlamaVocabulary.SentencePieceModel,
                Tokens = tokens,
                Scores = scores,
                Types = types,
                UnknownTokenId = Find(unkToken ?? "<unk>"),
                BosTokenId = Find("<s>", "<|begin_of_text|>") ?? 1,
                EosTokenId = Find("</s>", "<|end_of_text|>", "<|endoftext|>") ?? 2,
            }.Validate();
        }

        return new LlamaVocabulary
        {
            Model = LlamaVocabulary.Gpt2Model,
            PreTokenizer = "default",
            Tokens = tokens,
            Types = types,
            Merges = merges,
            UnknownTokenId = unkToken is null ? null : Find(unkToken),
            BosTokenId = Find("<|begin_of_text|>", "<s>", "<|endoftext|>") ?? 0,
            EosTokenId = Find("<|end_of_text|>", "</s>", "<|endoftext|>") ?? 0,
            AddBosToken = false,
        }.Validate();
    }

    // Merges are "a b" strings (older files) or ["a", "b"] pairs (tokenizers ≥ 0.20).
    private static string[] ReadMerges(JsonNode? node, string path) => node switch
    {
        null => [],
        JsonArray a => a.Select(m => m switch
        {
            JsonValue v => v.GetValue<string>(),
            JsonArray pair when pair.Count == 2 => $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}",
            _ => throw new InvalidDataException($"{path}: a merge is neither \"a b\" nor [\"a\", \"b\"]."),
        }).ToArray(),
        _ => throw new InvalidDataException($"{path}: model.merges is not an array."),
    };

    private static bool IsByteToken(string t) =>
        t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>' && Uri.IsHexDigit(t[3]) && Uri.IsHexDigit(t[4]);

    private static string Gpt2TokenizerJson(LlamaVocabulary vocab)
    {
        var vocabObj = new JsonObject();
        var added = new JsonArray();
        for (var i = 0; i < vocab.Count; i++)
        {
            if (vocab.Types[i] is TokenType.Control or TokenType.UserDefined)
            {
                added.Add(new JsonObject
                {
                    ["id"] = i,
                    ["content"] = vocab.Tokens[i],
                    ["single_word"] = false,
                    ["lstrip"] = false,
                    ["rstrip"] = false,
                    ["normalized"] = false,
                    ["special"] = vocab.Types[i] == TokenType.Control,
                });
            }

            vocabObj[vocab.Tokens[i]] = i;
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = vocab.UnknownTokenId is { } u ? vocab.Tokens[u] : null,
                ["byte_fallback"] = false,
                ["vocab"] = vocabObj,
                ["merges"] = new JsonArray(vocab.Merges!.Select(m => (JsonNode)m).ToArray()),
            },
        };
        return root.ToJsonString();
    }
}
