using Alpaca.Tokenizers.Text;

namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// llama.cpp's <c>llm_tokenizer_bpe_session</c> merge loop: characters start as symbols, the adjacent pair
/// with the lowest merge rank (ties: leftmost) merges first, until no listed pair remains.
/// </summary>
internal sealed class ReferenceBpeMerger : IBpeMerger
{
    private readonly TokenTable _table;
    private readonly Dictionary<string, int> _ranks;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _rankLookup;

    public ReferenceBpeMerger(TokenTable table, IReadOnlyList<string> merges)
    {
        _table = table;
        _ranks = new Dictionary<string, int>(merges.Count, StringComparer.Ordinal);
        for (var i = 0; i < merges.Count; i++)
        {
            // llama.cpp keeps the first rank of a repeated merge (map emplace does not overwrite).
            _ranks.TryAdd(merges[i], i);
        }

        _rankLookup = _ranks.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public void Merge(string word, List<int> output)
    {
        var n = word.Length;
        var start = new int[n];
        var length = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (var i = 0; i < n; i++)
        {
            // Byte-level characters are all in the BMP: one char per symbol.
            start[i] = i;
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<(int Left, int Right, int Size), (int Rank, int Left)>();
        var key = new char[n + 1];
        void AddBigram(int left, int right)
        {
            if (left < 0 || right < 0)
            {
                return;
            }

            // Merges are stored as "left right"; byte-level text never contains a real space.
            word.AsSpan(start[left], length[left]).CopyTo(key);
            key[length[left]] = ' ';
            word.AsSpan(start[right], length[right]).CopyTo(key.AsSpan(length[left] + 1));
            if (_rankLookup.TryGetValue(key.AsSpan(0, length[left] + length[right] + 1), out var rank))
            {
                queue.Enqueue((left, right, length[left] + length[right]), (rank, left));
            }
        }

        for (var i = 1; i < n; i++)
        {
            AddBigram(i - 1, i);
        }

        while (queue.TryDequeue(out var bigram, out _))
        {
            var (left, right, size) = bigram;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != size || next[left] != right)
            {
                continue;
            }

            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }

            AddBigram(prev[left], left);
            AddBigram(left, next[left]);
        }

        for (var i = 0; i != -1 && n > 0; i = next[i])
        {
            var symbol = word.AsSpan(start[i], length[i]);
            var id = _table.Find(symbol);
            if (id >= 0)
            {
                output.Add(id);
                continue;
            }

            // llama.cpp then looks each UTF-8 byte of the symbol up as a one-byte token; only ASCII can match.
            foreach (var c in symbol)
            {
                if (c < 0x80 && _table.Find(c.ToString()) is var single and >= 0)
                {
                    output.Add(single);
                }
            }
        }
    }
}
