using Alpaca.Llm.Gguf;

namespace Alpaca.Llm.Tokenizers;

/// <summary>Reads the vocabulary of any file or folder that carries one, by what it is (not by its name where the content says).</summary>
public static class TokenizerFile
{
    /// <summary>
    /// A <c>.gguf</c> model (its <c>tokenizer.ggml.*</c> keys), a SentencePiece <c>tokenizer.model</c>, a
    /// <c>tokenizer.json</c> (with the <c>tokenizer_config.json</c> beside it), or a Hugging Face folder.
    /// </summary>
    public static LlamaVocabulary Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            return HfTokenizerFiles.Read(path)
                ?? throw new FileNotFoundException($"{path}: no {SentencePieceModelFile.FileName} or {HfTokenizerJson.FileName}.", path);
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        }

        if (IsGguf(path))
        {
            using var gguf = GgufFile.Open(path);
            return LlamaVocabulary.RequireFromGguf(gguf.Metadata, path);
        }

        if (path.EndsWith(".model", StringComparison.OrdinalIgnoreCase))
        {
            return SentencePieceModelFile.Read(path);
        }

        var config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, HfTokenizerFiles.TokenizerConfigJson);
        try
        {
            return HfTokenizerJson.Read(File.ReadAllText(path), File.Exists(config) ? File.ReadAllText(config) : null);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static bool IsGguf(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }
}
