namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// Learns a small LLaMA-style SentencePiece BPE vocabulary from text, so that the <c>tiny</c> preset
/// has a real subword tokenizer without any download. Layout as in LLaMA's tokenizer.model:
/// &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte-fallback pieces, merged pieces (score = −merge rank,
/// so encoding replays the merges in the order they were learned), then single characters (Unicode
/// code points; rarer ones fall back to bytes). Words are split SentencePiece-style: a space becomes ▁
/// and starts the next word, and merges never cross words. Ties in pair counts break towards the pair
/// with the smaller symbol ids, so the result is deterministic.
/// </summary>
public static class TinyBpeTrainer
{
    public const char Space = '\u2581';

    public static LlamaVocabulary Train(IEnumerable<string> texts, int vocabSize, int minCharCount = 2)
    {
        var words = CountWords(texts);

        // Characters that earn a piece: frequent ones, most frequent first (ordinal order breaks ties).
        var charCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (word, count) in words)
        {
            foreach (var rune in word.EnumerateRunes())
            {
                charCounts[rune.ToString()] = charCounts.GetValueOrDefault(rune.ToString()) + count;
            }
        }

        var chars = charCounts.Where(kv => kv.Value >= minCharCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
        var mergeBudget = vocabSize - (3 + 256 + chars.Count);
        if (mergeBudget < 0)
        {
            throw new ArgumentException($"A vocabulary of {vocabSize} cannot hold the {3 + 256 + chars.Count} special, byte and character pieces.");
        }

        // Symbols are ints: the strings they stand for live in `symbolText`; −1 marks a byte-fallback char.
        var symbolText = new List<string>(chars);
        var symbolId = chars.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var corpus = words
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: kv.Key.EnumerateRunes().Select(r => symbolId.GetValueOrDefault(r.ToString(), -1)).ToList(), Count: kv.Value))
            .ToList();

        // Pair counts are kept up to date incrementally: a merge only touches the words containing it.
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        for (var w = 0; w < corpus.Count; w++)
        {
            AddPairs(corpus[w].Symbols, corpus[w].Count, w, pairCounts, pairWords);
        }

        var merges = new List<string>();
        var inVocabulary = new HashSet<string>(chars, StringComparer.Ordinal);
        while (merges.Count < mergeBudget)
        {
            // Most frequent pair (seen at least twice) whose merge is a new piece; ties to the smaller ids.
            long best = -1, bestCount = 1;
            foreach (var (key, count) in pairCounts)
            {
                if ((count > bestCount || (count == bestCount && best >= 0 && key < best))
                    && !inVocabulary.Contains(symbolText[(int)(key >> 32)] + symbolText[(int)(key & 0xffffffff)]))
                {
                    best = key;
                    bestCount = count;
                }
            }

            if (best < 0)
            {
                break; // no pair occurs twice any more
            }

            int left = (int)(best >> 32), right = (int)(best & 0xffffffff);
            var merged = symbolText[left] + symbolText[right];
            var mergedId = symbolText.Count;
            symbolText.Add(merged);
            merges.Add(merged);
            inVocabulary.Add(merged);
            foreach (var w in pairWords[best].ToList())
            {
                var (symbols, count) = corpus[w];
                RemovePairs(symbols, count, w, pairCounts, pairWords);
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = mergedId;
                        symbols.RemoveAt(i + 1);
                    }
                }

                AddPairs(symbols, count, w, pairCounts, pairWords);
            }
        }

        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<TokenType> { TokenType.Unknown, TokenType.Control, TokenType.Control };
        for (var b = 0; b < 256; b++)
        {
            tokens.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"<0x{b:X2}>"));
            types.Add(TokenType.Byte);
        }

        var scores = new List<float>(Enumerable.Repeat(0f, tokens.Count));
        tokens.AddRange(merges);
        scores.AddRange(merges.Select((_, i) => (float)-i));
        tokens.AddRange(chars);
        scores.AddRange(chars.Select((_, i) => (float)-(merges.Count + i)));
        types.AddRange(Enumerable.Repeat(TokenType.Normal, merges.Count + chars.Count));
        return new LlamaVocabulary
        {
            Model = LlamaVocabulary.SentencePieceModel,
            Tokens = [.. tokens],
            Scores = [.. scores],
            Types = [.. types],
            UnknownTokenId = 0,
            BosTokenId = 1,
            EosTokenId = 2,
        }.Validate();
    }

    private static void AddPairs(List<int> symbols, long count, int word, Dictionary<long, long> counts, Dictionary<long, HashSet<int>> words)
    {
        for (var i = 0; i + 1 < symbols.Count; i++)
        {
            if (symbols[i] >= 0 && symbols[i + 1] >= 0)
            {
                var key = ((long)symbols[i] << 32) | (uint)symbols[i + 1];
                counts[key] = counts.GetValueOrDefault(key) + count;
                if (!words.TryGetValue(key, out var set))
                {
                    words[key] = set = [];
                }

                set.Add(word);
            }
        }
    }

    private static void RemovePairs(List<int> symbols, long count, int word, Dictionary<long, long> counts, Dictionary<long, HashSet<int>> words)
    {
        for (var i = 0; i + 1 < symbols.Count; i++)
        {
            if (symbols[i] >= 0 && symbols[i + 1] >= 0)
            {
                var key = ((long)symbols[i] << 32) | (uint)symbols[i + 1];
                if ((counts[key] -= count) == 0)
                {
                    counts.Remove(key);
                    words.Remove(key);
                }
                else
                {
                    words[key].Remove(word);
                }
            }
        }
    }

    /// <summary>SentencePiece's view of a text: dummy-prefix ▁, spaces as ▁, words starting at each ▁.</summary>
    public static Dictionary<string, long> CountWords(IEnumerable<string> texts)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            var normalized = Space + text.Replace(' ', Space);
            var start = 0;
            for (var i = 1; i <= normalized.Length; i++)
            {
                if (i == normalized.Length || normalized[i] == Space)
                {
                    var word = normalized[start..i];
                    counts[word] = counts.GetValueOrDefault(word) + 1;
                    start = i;
                }
            }
        }

        return counts;
    }
}
