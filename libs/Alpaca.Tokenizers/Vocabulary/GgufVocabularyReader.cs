using Alpaca.Llm.Gguf;

namespace Alpaca.Tokenizers.Vocabulary;

/// <summary>Reads the <c>tokenizer.ggml.*</c> metadata of a GGUF file into a <see cref="TokenizerVocabulary"/>.</summary>
public static class GgufVocabularyReader
{
    public static TokenizerVocabulary Read(GgufMetadata metadata, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var where = source ?? "GGUF";
        var model = metadata.GetString("tokenizer.ggml.model")
            ?? throw new InvalidDataException($"{where}: metadata key 'tokenizer.ggml.model' is missing; the file carries no tokenizer.");
        var tokens = Array<string>(metadata, "tokenizer.ggml.tokens", where)
            ?? throw new InvalidDataException($"{where}: metadata key 'tokenizer.ggml.tokens' is missing.");

        return new TokenizerVocabulary
        {
            Model = model,
            Tokens = tokens,
            Scores = Scores(metadata, where),
            TokenTypes = Array<int>(metadata, "tokenizer.ggml.token_type", where)?.Select(t => (TokenType)t).ToArray(),
            Merges = Array<string>(metadata, "tokenizer.ggml.merges", where),
            Pre = metadata.GetString("tokenizer.ggml.pre"),
            BosId = Id(metadata, "tokenizer.ggml.bos_token_id"),
            EosId = Id(metadata, "tokenizer.ggml.eos_token_id"),
            UnkId = Id(metadata, "tokenizer.ggml.unknown_token_id"),
            PadId = Id(metadata, "tokenizer.ggml.padding_token_id"),
            AddBos = metadata.GetBool("tokenizer.ggml.add_bos_token"),
            AddEos = metadata.GetBool("tokenizer.ggml.add_eos_token"),
            AddSpacePrefix = metadata.GetBool("tokenizer.ggml.add_space_prefix"),
        };
    }

    private static int? Id(GgufMetadata metadata, string key) => metadata.GetInteger(key) is { } v ? checked((int)v) : null;

    // llama.cpp accepts f32 or i32 scores.
    private static float[]? Scores(GgufMetadata metadata, string where)
    {
        if (!metadata.TryGetValue("tokenizer.ggml.scores", out var value))
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

    private static T[]? Array<T>(GgufMetadata metadata, string key, string where)
    {
        if (!metadata.TryGetValue(key, out var value))
        {
            return null;
        }

        return value.RawValue as T[]
            ?? throw new InvalidDataException($"{where}: '{key}' must be an array of {typeof(T).Name}, not {value.Type}/{value.ElementType}.");
    }
}
