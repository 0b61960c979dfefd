using Alpaca.Llm.Gguf;

namespace Alpaca.Llm.Tokenizers;

/// <summary>The vocabulary ↔ a GGUF file's <c>tokenizer.ggml.*</c> keys (the one reader and writer of them).</summary>
public sealed partial record LlamaVocabulary
{
    /// <summary>As <see cref="FromGguf"/>, for a file that must carry a tokenizer (a model to serve).</summary>
    public static LlamaVocabulary RequireFromGguf(GgufMetadata md, string? source = null) =>
        FromGguf(md, source) ?? throw new InvalidDataException($"{source}: metadata key 'tokenizer.ggml.model' is missing; the file carries no tokenizer.");

    /// <summary>
    /// Reads the vocabulary of a GGUF file: null when it carries none (neither <c>tokenizer.ggml.model</c>
    /// nor tokens). Absent optional keys stay null. Mistyped keys are an <see cref="InvalidDataException"/>
    /// naming the file and key.
    /// </summary>
    public static LlamaVocabulary? FromGguf(GgufMetadata md, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(md);
        var where = source ?? "GGUF";
        var model = md.TryGetValue("tokenizer.ggml.model", out var m) ? m.RawValue as string
            ?? throw new InvalidDataException($"{where}: 'tokenizer.ggml.model' must be a string, not {m.Type}.") : null;
        var tokens = Array<string>(md, "tokenizer.ggml.tokens", where);
        if (model is null && tokens is null)
        {
            return null;
        }

        if (model is null)
        {
            throw new InvalidDataException($"{where}: metadata key 'tokenizer.ggml.model' is missing.");
        }

        if (tokens is null)
        {
            throw new InvalidDataException($"{where}: metadata key 'tokenizer.ggml.tokens' is missing.");
        }

        try
        {
            return new LlamaVocabulary
            {
                Model = model,
                Tokens = tokens,
                Scores = ReadScores(md, where),
                Types = Array<int>(md, "tokenizer.ggml.token_type", where)?.Select(t => (TokenType)t).ToArray()
                    ?? Enumerable.Repeat(TokenType.Normal, tokens.Length).ToArray(),
                Merges = Array<string>(md, "tokenizer.ggml.merges", where),
                PreTokenizer = md.GetString("tokenizer.ggml.pre"),
                BosTokenId = Id(md, "tokenizer.ggml.bos_token_id"),
                EosTokenId = Id(md, "tokenizer.ggml.eos_token_id"),
                UnknownTokenId = Id(md, "tokenizer.ggml.unknown_token_id"),
                PaddingTokenId = Id(md, "tokenizer.ggml.padding_token_id"),
                AddBosToken = md.GetBool("tokenizer.ggml.add_bos_token"),
                AddEosToken = md.GetBool("tokenizer.ggml.add_eos_token"),
                AddSpacePrefix = md.GetBool("tokenizer.ggml.add_space_prefix"),
                ChatTemplate = md.GetString("tokenizer.chat_template"),
            }.Validate();
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"{where}: bad tokenizer metadata: {e.Message}", e);
        }
    }

    /// <summary>Writes the <c>tokenizer.ggml.*</c> keys llama.cpp reads (absent fields stay absent).</summary>
    public void ApplyTo(GgufMetadata md)
    {
        ArgumentNullException.ThrowIfNull(md);
        Validate();
        md.Set("tokenizer.ggml.model", GgufValue.String(Model));
        if (PreTokenizer is not null)
        {
            md.Set("tokenizer.ggml.pre", GgufValue.String(PreTokenizer));
        }

        md.Set("tokenizer.ggml.tokens", GgufValue.Array(Tokens));
        if (Scores is not null)
        {
            md.Set("tokenizer.ggml.scores", GgufValue.Array(Scores));
        }

        md.Set("tokenizer.ggml.token_type", GgufValue.Array(Types.Select(t => (int)t).ToArray()));
        if (Merges is not null)
        {
            md.Set("tokenizer.ggml.merges", GgufValue.Array(Merges));
        }

        foreach (var (key, id) in new[]
        {
            ("tokenizer.ggml.bos_token_id", BosTokenId), ("tokenizer.ggml.eos_token_id", EosTokenId),
            ("tokenizer.ggml.unknown_token_id", UnknownTokenId), ("tokenizer.ggml.padding_token_id", PaddingTokenId),
        })
        {
            if (id is >= 0)
            {
                md.Set(key, GgufValue.UInt32((uint)id.Value));
            }
        }

        foreach (var (key, flag) in new[]
        {
            ("tokenizer.ggml.add_bos_token", AddBosToken), ("tokenizer.ggml.add_eos_token", AddEosToken),
            ("tokenizer.ggml.add_space_prefix", AddSpacePrefix),
        })
        {
            if (flag is { } f)
            {
                md.Set(key, GgufValue.Bool(f));
            }
        }

        if (ChatTemplate is not null)
        {
            md.Set("tokenizer.chat_template", GgufValue.String(ChatTemplate));
        }
    }

    private static int? Id(GgufMetadata md, string key) => md.GetInteger(key) is { } v ? checked((int)v) : null;

    // llama.cpp accepts f32 or i32 scores.
    private static float[]? ReadScores(GgufMetadata md, string where)
    {
        if (!md.TryGetValue("tokenizer.ggml.scores", out var value))
        {
            return null;
        }

        return value.RawValue switch
        {
            float[] f => f,
            int[] i => i.Select(x => (float)x).ToArray(),
            _ => throw new InvalidDataException($"{where}: 'tokenizer.ggml.scores' must be an array of f32 or i32, not {value.Type}/{value.ElementType}."),
        };
    }

    private static T[]? Array<T>(GgufMetadata md, string key, string where)
    {
        if (!md.TryGetValue(key, out var value))
        {
            return null;
        }

        return value.RawValue as T[]
            ?? throw new InvalidDataException($"{where}: '{key}' must be an array of {typeof(T).Name}, not {value.Type}/{value.ElementType}.");
    }
}
