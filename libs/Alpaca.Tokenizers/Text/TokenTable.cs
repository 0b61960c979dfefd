using Alpaca.Llm.Tokenizers;

namespace Alpaca.Tokenizers.Text;

/// <summary>
/// The vocabulary as lookup tables: id → text/type/score and text → id, with a span lookup so the
/// merge loops can probe candidate pieces without allocating strings.
/// </summary>
internal sealed class TokenTable
{
    private readonly Dictionary<string, int> _byText;

    public TokenTable(LlamaVocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        var n = vocab.Tokens.Length;
        if (n == 0)
        {
            throw new ArgumentException("The vocabulary has no tokens.", nameof(vocab));
        }

        CheckLength(vocab.Scores?.Length, n, "scores");
        CheckLength(vocab.Types.Length, n, "token types");

        Texts = new string[n];
        Types = new TokenType[n];
        Scores = new float[n];
        _byText = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var id = 0; id < n; id++)
        {
            var text = vocab.Tokens[id] ?? throw new ArgumentException($"Token {id} is null.", nameof(vocab));
            if (text.Length == 0)
            {
                // llama.cpp renames empty pieces the same way, so lookups and rendering agree with it.
                text = "[EMPTY_" + id + "]";
            }

            Texts[id] = text;
            Types[id] = vocab.Types[id];
            Scores[id] = vocab.Scores?[id] ?? 0f;

            // On duplicate texts the last id wins, as in llama.cpp's token_to_id map.
            _byText[text] = id;
        }

        Lookup = _byText.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string[] Texts { get; }

    public TokenType[] Types { get; }

    public float[] Scores { get; }

    public int Count => Texts.Length;

    public Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }

    public int Find(ReadOnlySpan<char> text) => Lookup.TryGetValue(text, out var id) ? id : -1;

    public int Find(string text) => _byText.TryGetValue(text, out var id) ? id : -1;

    /// <summary>Control and unknown tokens: skipped by Decode, matched in text only on request.</summary>
    public bool IsControlOrUnknown(int id) => Types[id] is TokenType.Control or TokenType.Unknown;

    /// <summary>An id taken from metadata, or -1 when absent; out-of-range ids are a clear error.</summary>
    public int CheckId(int? id, string name)
    {
        if (id is null or < 0)
        {
            return -1;
        }

        if (id.Value >= Count)
        {
            throw new ArgumentException($"The {name} token id {id.Value} is outside the vocabulary of {Count} tokens.");
        }

        return id.Value;
    }

    private static void CheckLength(int? count, int n, string what)
    {
        if (count is { } c && c != n)
        {
            throw new ArgumentException($"The vocabulary has {n} tokens but {c} {what}.");
        }
    }
}
