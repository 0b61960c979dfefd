using System.Text;
using Alpaca.Llm.Tokenizers;
using Alpaca.Tokenizers.Decoding;
using Alpaca.Tokenizers.Text;

namespace Alpaca.Tokenizers.Spm;

/// <summary>
/// SentencePiece BPE with byte fallback as llama.cpp runs it (GGUF <c>tokenizer.ggml.model = llama</c>):
/// every raw-text fragment that starts the text or follows a special token gets one leading space, spaces
/// become <c>▁</c> (U+2581), and <see cref="SpmMerger"/> merges the highest-scoring pairs.
/// </summary>
internal sealed class SpmTokenizer : LlamaTokenizerBase
{
    /// <summary>SentencePiece's whitespace marker.</summary>
    public const char SpaceMarker = '\u2581';

    private readonly bool _addSpacePrefix;
    private readonly SpmMerger _merger;

    /// <param name="vocab">The vocabulary with llama.cpp's defaults applied (<see cref="LlamaVocabulary.LlamaCppDefaults"/>).</param>
    public SpmTokenizer(LlamaVocabulary vocab)
        : this(new TokenTable(vocab), vocab)
    {
    }

    private SpmTokenizer(TokenTable table, LlamaVocabulary vocab)
        : base(table, vocab)
    {
        _addSpacePrefix = vocab.AddSpacePrefix ?? true;
        _merger = new SpmMerger(table, ByteTokens(table), UnkId);
        Pieces = BuildPieces(table, _addSpacePrefix);
    }

    protected override void EncodeFragments(string text, List<Fragment> fragments, List<int> output)
    {
        var isPrevSpecial = true; // the first text fragment gets the prefix space too
        var buffer = new StringBuilder();
        foreach (var fragment in fragments)
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.Token);
                isPrevSpecial = true;
                continue;
            }

            buffer.Clear();
            if (_addSpacePrefix && isPrevSpecial)
            {
                buffer.Append(' ');
            }

            buffer.Append(text, fragment.Start, fragment.Length);
            buffer.Replace(' ', SpaceMarker);
            _merger.Tokenize(buffer.ToString(), output);
            isPrevSpecial = false;
        }
    }

    /// <summary>
    /// The id of <c>&lt;0xXX&gt;</c> for each byte; like llama.cpp, a vocabulary without it may hold the
    /// single ASCII character instead. -1 where neither exists (that byte then encodes as UNK).
    /// </summary>
    private static int[] ByteTokens(TokenTable table)
    {
        var ids = new int[256];
        for (var b = 0; b < 256; b++)
        {
            var id = table.Find($"<0x{b:X2}>");
            if (id < 0 && b < 0x80)
            {
                id = table.Find(((char)b).ToString());
            }

            ids[b] = id;
        }

        return ids;
    }

    private static PieceTable BuildPieces(TokenTable table, bool stripLeadingSpace)
    {
        var bytes = new byte[table.Count][];
        var kinds = new PieceKind[table.Count];
        for (var id = 0; id < table.Count; id++)
        {
            var text = table.Texts[id];
            (bytes[id], kinds[id]) = table.Types[id] switch
            {
                TokenType.Normal => (Encoding.UTF8.GetBytes(text.Replace(SpaceMarker, ' ')), PieceKind.Text),
                TokenType.Byte => (new[] { ParseByteToken(text, id) }, PieceKind.Text),
                TokenType.UserDefined => (Encoding.UTF8.GetBytes(text), PieceKind.Text),
                TokenType.Control or TokenType.Unknown => (Encoding.UTF8.GetBytes(text), PieceKind.Special),
                _ => (Array.Empty<byte>(), PieceKind.Hidden),
            };
        }

        return new PieceTable(bytes, kinds, stripLeadingSpace);
    }

    internal static byte ParseByteToken(string text, int id)
    {
        if (text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>' &&
            byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var value))
        {
            return value;
        }

        throw new ArgumentException($"Token {id} has type byte but its text '{text}' is not of the form <0xXX>.");
    }
}
