using System.Text;
using Alpaca.Tokenizers.Text;

namespace Alpaca.Tokenizers.Spm;

/// <summary>
/// llama.cpp's <c>llm_tokenizer_spm_session</c>, step for step: the text is cut into characters, every
/// adjacent pair whose concatenation is a vocabulary piece goes into a queue ordered by that piece's score
/// (ties: leftmost first), and pairs are merged greedily until none is left. A final symbol that is not a
/// piece (an unknown character) falls back to its UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens.
/// </summary>
internal sealed class SpmMerger
{
    private readonly TokenTable _table;
    private readonly int[] _byteTokens;
    private readonly int _unkId;

    public SpmMerger(TokenTable table, int[] byteTokens, int unkId)
    {
        _table = table;
        _byteTokens = byteTokens;
        _unkId = unkId;
    }

    /// <summary>Tokenizes already escaped text (spaces replaced by ▁) and appends the ids.</summary>
    public void Tokenize(string text, List<int> output)
    {
        if (text.Length == 0)
        {
            return;
        }

        var symbols = new Symbols(text);
        var queue = new PriorityQueue<Bigram, Bigram>(symbols.Count, BigramOrder.Instance);
        for (var i = 1; i < symbols.Count; i++)
        {
            TryAddBigram(text, symbols, queue, i - 1, i);
        }

        while (queue.TryDequeue(out var bigram, out _))
        {
            var left = bigram.Left;
            var right = bigram.Right;

            // Skip pairs made stale by an earlier merge of either side.
            if (symbols.Length[left] == 0 || symbols.Length[right] == 0 || symbols.Length[left] + symbols.Length[right] != bigram.Size)
            {
                continue;
            }

            symbols.Length[left] += symbols.Length[right];
            symbols.Length[right] = 0;
            symbols.Next[left] = symbols.Next[right];
            if (symbols.Next[right] >= 0)
            {
                symbols.Prev[symbols.Next[right]] = left;
            }

            TryAddBigram(text, symbols, queue, symbols.Prev[left], left);
            TryAddBigram(text, symbols, queue, left, symbols.Next[left]);
        }

        for (var i = 0; i != -1; i = symbols.Next[i])
        {
            Emit(text.AsSpan(symbols.Start[i], symbols.Length[i]), output);
        }
    }

    private void TryAddBigram(string text, Symbols symbols, PriorityQueue<Bigram, Bigram> queue, int left, int right)
    {
        if (left == -1 || right == -1)
        {
            return;
        }

        var size = symbols.Length[left] + symbols.Length[right];
        var id = _table.Find(text.AsSpan(symbols.Start[left], size));
        if (id < 0)
        {
            return;
        }

        var bigram = new Bigram(left, right, _table.Scores[id], size);
        queue.Enqueue(bigram, bigram);
    }

    private void Emit(ReadOnlySpan<char> piece, List<int> output)
    {
        var id = _table.Find(piece);
        if (id >= 0)
        {
            output.Add(id);
            return;
        }

        // Only single characters can get here (merged symbols are always pieces): byte fallback.
        Span<byte> utf8 = stackalloc byte[8];
        var count = Encoding.UTF8.GetBytes(piece, utf8);
        foreach (var b in utf8[..count])
        {
            var byteId = _byteTokens[b];
            if (byteId < 0)
            {
                byteId = _unkId >= 0
                    ? _unkId
                    : throw new InvalidOperationException($"The vocabulary has no token for byte 0x{b:X2} and no UNK token.");
            }

            output.Add(byteId);
        }
    }

    private readonly record struct Bigram(int Left, int Right, float Score, int Size);

    /// <summary>Highest score first; among equal scores the leftmost pair (llama.cpp's comparator).</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram x, Bigram y)
        {
            if (x.Score != y.Score)
            {
                return x.Score > y.Score ? -1 : 1;
            }

            return x.Left.CompareTo(y.Left);
        }
    }

    /// <summary>A doubly linked list of symbols over the text, one per character (surrogate pairs stay whole).</summary>
    private sealed class Symbols
    {
        public Symbols(string text)
        {
            var starts = new List<int>(text.Length);
            for (var i = 0; i < text.Length; i++)
            {
                starts.Add(i);
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                }
            }

            Count = starts.Count;
            Start = starts.ToArray();
            Length = new int[Count];
            Prev = new int[Count];
            Next = new int[Count];
            for (var i = 0; i < Count; i++)
            {
                Length[i] = (i + 1 < Count ? Start[i + 1] : text.Length) - Start[i];
                Prev[i] = i - 1;
                Next[i] = i + 1 < Count ? i + 1 : -1;
            }
        }

        public int Count { get; }

        public int[] Start { get; }

        public int[] Length { get; }

        public int[] Prev { get; }

        public int[] Next { get; }
    }
}
