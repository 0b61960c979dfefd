using Alpaca.Tokenizers.Decoding;
using Alpaca.Tokenizers.Text;
using Alpaca.Tokenizers.Vocabulary;

namespace Alpaca.Tokenizers;

/// <summary>
/// What both LLaMA tokenizer kinds share: special-token splitting, BOS handling, id metadata and
/// decoding through a <see cref="PieceTable"/>. Subclasses tokenize the raw-text fragments.
/// </summary>
internal abstract class LlamaTokenizerBase : ITextTokenizer
{
    private readonly SpecialTokenSplitter _splitter;

    protected LlamaTokenizerBase(TokenTable table, TokenizerVocabulary vocab, int defaultBos, int defaultEos, int defaultUnk, bool defaultAddBos)
    {
        Table = table;
        _splitter = new SpecialTokenSplitter(table);
        BosId = table.CheckId(vocab.BosId ?? DefaultIfInRange(defaultBos, table), "BOS");
        EosId = table.CheckId(vocab.EosId ?? DefaultIfInRange(defaultEos, table), "EOS");
        UnkId = table.CheckId(vocab.UnkId ?? DefaultIfInRange(defaultUnk, table), "UNK");
        var pad = table.CheckId(vocab.PadId, "PAD");
        PadId = pad >= 0 ? pad : null;
        AddBosByDefault = (vocab.AddBos ?? defaultAddBos) && BosId >= 0;
    }

    protected TokenTable Table { get; }

    /// <summary>Set by subclasses once their piece rules are known.</summary>
    protected PieceTable Pieces { get; init; } = null!;

    public int VocabSize => Table.Count;

    public int BosId { get; }

    public int EosId { get; }

    public int? PadId { get; }

    public int UnkId { get; }

    public bool AddBosByDefault { get; }

    public IReadOnlyList<int> Encode(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 2);
        if (addBos)
        {
            if (BosId < 0)
            {
                throw new InvalidOperationException("This vocabulary has no BOS token; encode with addBos: false.");
            }

            output.Add(BosId);
        }

        EncodeFragments(text, _splitter.Split(text, parseSpecial), output);
        return output;
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = true) => Pieces.Decode(ids, skipSpecial);

    public string TokenText(int id)
    {
        CheckId(id);
        return Table.Texts[id];
    }

    public bool IsSpecial(int id)
    {
        CheckId(id);
        return Table.IsControlOrUnknown(id);
    }

    public StreamingDetokenizer CreateStreamingDetokenizer() => new(Pieces);

    /// <summary>Appends the ids of the fragments (raw text or already matched special tokens).</summary>
    protected abstract void EncodeFragments(string text, List<Fragment> fragments, List<int> output);

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)Table.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary of {Table.Count} tokens.");
        }
    }

    // llama.cpp's per-model default ids are dropped when they do not fit the vocabulary.
    private static int? DefaultIfInRange(int id, TokenTable table) => id >= 0 && id < table.Count ? id : null;
}
