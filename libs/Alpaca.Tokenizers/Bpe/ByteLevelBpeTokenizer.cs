using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers.Decoding;
using Alpaca.Tokenizers.Spm;
using Alpaca.Tokenizers.Text;

namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// Byte-level BPE as llama.cpp runs it (GGUF <c>tokenizer.ggml.model = gpt2</c>, Llama-3): raw text is
/// split into words by the pre-tokenizer regex, each word is written in byte-level characters, looked up
/// whole first when merges are ignored (Llama-3), and otherwise merged by rank.
/// </summary>
internal sealed class ByteLevelBpeTokenizer : LlamaTokenizerBase
{
    private readonly PreTokenizer _preTokenizer;
    private readonly IBpeMerger _merger;
    private readonly bool _ignoreMerges;

    /// <param name="vocab">The vocabulary with llama.cpp's defaults applied (<see cref="LlamaVocabulary.LlamaCppDefaults"/>).</param>
    public ByteLevelBpeTokenizer(LlamaVocabulary vocab, bool useReferenceMerger = false)
        : this(new TokenTable(vocab), vocab, useReferenceMerger)
    {
    }

    private ByteLevelBpeTokenizer(TokenTable table, LlamaVocabulary vocab, bool useReferenceMerger)
        : base(table, vocab)
    {
        var merges = vocab.Merges ?? throw new ArgumentException("A gpt2 (byte-level BPE) vocabulary needs merges (tokenizer.ggml.merges).");
        _preTokenizer = PreTokenizer.ForName(vocab.PreTokenizer);
        _ignoreMerges = vocab.IgnoreMerges ?? LlamaVocabulary.IsLlama3PreTokenizer(vocab.PreTokenizer);
        _merger = useReferenceMerger ? new ReferenceBpeMerger(table, merges) : new MlBpeMerger(table, merges);
        Pieces = BuildPieces(table);
    }

    protected override void EncodeFragments(string text, List<Fragment> fragments, List<int> output)
    {
        foreach (var fragment in fragments)
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.Token);
                continue;
            }

            var span = text.AsSpan(fragment.Start, fragment.Length);
            foreach (var (start, length) in _preTokenizer.Split(span))
            {
                var word = ByteLevelEncoding.Encode(span.Slice(start, length));
                if (_ignoreMerges && Table.Find(word) is var whole and >= 0)
                {
                    output.Add(whole);
                    continue;
                }

                _merger.Merge(word, output);
            }
        }
    }

    private static PieceTable BuildPieces(TokenTable table)
    {
        var bytes = new byte[table.Count][];
        var kinds = new PieceKind[table.Count];
        for (var id = 0; id < table.Count; id++)
        {
            var text = table.Texts[id];
            (bytes[id], kinds[id]) = table.Types[id] switch
            {
                TokenType.Normal => (ByteLevelEncoding.Decode(text), PieceKind.Text),
                TokenType.Byte => (new[] { SpmTokenizer.ParseByteToken(text, id) }, PieceKind.Text),
                TokenType.UserDefined => (System.Text.Encoding.UTF8.GetBytes(text), PieceKind.Text),
                TokenType.Control or TokenType.Unknown => (System.Text.Encoding.UTF8.GetBytes(text), PieceKind.Special),
                _ => (Array.Empty<byte>(), PieceKind.Hidden),
            };
        }

        return new PieceTable(bytes, kinds, stripLeadingSpace: false);
    }
}
