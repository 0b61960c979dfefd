using System.Globalization;

namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// Builds the synthetic SentencePiece vocabulary of the tiny test models: specials, the 256 byte
/// pieces, then text pieces chosen so that SentencePiece-style merging can build common words
/// (every prefix of a list of frequent words, with and without ▁), then all letters, digits and
/// punctuation, then 2-letter pieces. Scores are −rank so earlier pieces merge first.
/// </summary>
internal static class ByteFallbackVocabularyBuilder
{
    public const char SpaceMarker = '\u2581'; // ▁, SentencePiece's visible space
    public const int FirstTextToken = 3 + 256;

    private static readonly string[] FrequentWords =
    [
        "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as", "with",
        "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by", "word", "but", "not", "what",
        "all", "were", "we", "when", "your", "can", "said", "there", "use", "an", "each", "which", "she", "do",
        "how", "their", "if", "will", "up", "other", "about", "out", "many", "then", "them", "these", "so", "some",
        "her", "would", "make", "like", "him", "into", "time", "has", "look", "two", "more", "write", "go", "see",
        "number", "no", "way", "could", "people", "my", "than", "first", "water", "been", "call", "who", "its",
        "now", "find", "long", "down", "day", "did", "get", "come", "made", "may", "part", "once", "upon", "little",
        "girl", "boy", "happy", "play", "friend", "mom", "dog", "cat", "big", "saw", "very", "wanted", "went",
        "instruction", "input", "output", "response", "give", "list", "explain", "describe", "create", "generate",
        "following", "sentence", "example", "question", "answer", "text", "words", "below", "task", "request",
    ];

    public static LlamaVocabulary Build(int size)
    {
        if (size < FirstTextToken)
        {
            throw new ArgumentException($"A byte-fallback vocabulary needs at least {FirstTextToken} tokens (3 specials + 256 bytes), got {size}.", nameof(size));
        }

        var tokens = new List<string>(size) { "<unk>", "<s>", "</s>" };
        var types = new List<TokenType>(size) { TokenType.Unknown, TokenType.Control, TokenType.Control };
        var scores = new List<float>(size) { 0f, 0f, 0f };
        for (var b = 0; b < 256; b++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"));
            types.Add(TokenType.Byte);
            scores.Add(0f);
        }

        var seen = new HashSet<string>(tokens, StringComparer.Ordinal);
        foreach (var piece in TextPieces())
        {
            if (tokens.Count == size)
            {
                break;
            }

            if (seen.Add(piece))
            {
                scores.Add(-(tokens.Count - FirstTextToken));
                tokens.Add(piece);
                types.Add(TokenType.Normal);
            }
        }

        for (var pad = 0; tokens.Count < size; pad++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<pad_{pad}>"));
            types.Add(TokenType.Unused);
            scores.Add(-1e9f);
        }

        return new LlamaVocabulary
        {
            Model = LlamaVocabulary.SentencePieceModel,
            Tokens = [.. tokens],
            Scores = [.. scores],
            Types = [.. types],
            BosTokenId = 1,
            EosTokenId = 2,
            UnknownTokenId = 0,
            AddBosToken = true,
        };
    }

    private static IEnumerable<string> TextPieces()
    {
        yield return SpaceMarker.ToString();
        // Single characters first so any ASCII text can be spelled without byte fallback.
        for (var c = 'a'; c <= 'z'; c++)
        {
            yield return c.ToString();
            yield return SpaceMarker + c.ToString();
        }

        for (var c = '!'; c <= '~'; c++)
        {
            yield return c.ToString();
        }

        for (var c = '!'; c <= '~'; c++)
        {
            yield return SpaceMarker + c.ToString();
        }

        // Word prefixes, so merges can climb from letters to whole words.
        foreach (var word in FrequentWords)
        {
            for (var n = 2; n <= word.Length; n++)
            {
                yield return SpaceMarker + word[..n];
                yield return word[..n];
            }

        }

        // Capitalised words at a sentence start ("▁Once"): every prefix, so merging can reach them too.
        foreach (var word in FrequentWords)
        {
            var capital = char.ToUpperInvariant(word[0]) + word[1..];
            for (var n = 2; n <= capital.Length; n++)
            {
                yield return SpaceMarker + capital[..(n - 1)];
                yield return capital[..n];
            }

            yield return SpaceMarker + capital;
        }

        for (var a = 'a'; a <= 'z'; a++)
        {
            for (var b = 'a'; b <= 'z'; b++)
            {
                yield return $"{a}{b}";
            }
        }
    }
}
