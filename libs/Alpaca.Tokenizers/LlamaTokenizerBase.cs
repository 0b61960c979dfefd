using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers.Decoding;
using Alpaca.Tokenizers.Text;

namespace Alpaca.Tokenizers;

/// <summary>
/// What both LLaMA tokenizer kinds share: special-token splitting, BOS handling, id metadata and
/// decoding through a <see cref="PieceTable"/>. Subclasses tokenize the raw-text fragments.
/// </summary>
internal abstract class LlamaTokenizerBase : ITextTokenizer
{
    private readonly SpecialTokenSplitter _splitter;

    /// <param name="vocab">The vocabulary with llama.cpp's defaults applied (<see cref="LlamaVocabulary.LlamaCppDefaults"/>).</param>
    protected LlamaTokenizerBase(TokenTable table, LlamaVocabulary vocab)
    {
        Table = table;
        _splitter = new SpecialTokenSplitter(table);
        BosId = table.CheckId(vocab.BosTokenId, "BOS");
        EosId = table.CheckId(vocab.EosTokenId, "EOS");
        UnkId = table.CheckId(vocab.UnknownTokenId, "UNK");
        var pad = table.CheckId(vocab.PaddingTokenId, "PAD");
        PadId = pad >= 0 ? pad : null;
        AddBosByDefault = vocab.AddBosToken == true && BosId >= 0;
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
}
