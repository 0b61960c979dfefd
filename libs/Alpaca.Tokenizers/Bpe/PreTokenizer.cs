namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// Splits text into the words that byte-level BPE merges inside. The two implementations port llama.cpp's
/// hand-written matchers for the Llama-3 and GPT-2 regexes (<c>unicode_regex_split_custom_*</c>), which
/// work on code points, so non-BMP letters and digits are classed correctly (a UTF-16 regex would not).
/// </summary>
internal abstract class PreTokenizer
{
    /// <summary>The word boundaries of <paramref name="text"/> as (start, length) in UTF-16 units.</summary>
    public List<(int Start, int Length)> Split(ReadOnlySpan<char> text)
    {
        var cpts = new List<int>(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length;)
        {
            offsets.Add(i);
            if (System.Text.Rune.DecodeFromUtf16(text[i..], out var rune, out var used) == System.Buffers.OperationStatus.Done)
            {
                cpts.Add(rune.Value);
            }
            else
            {
                // A lone surrogate: UTF-8 conversion turns it into U+FFFD, so class it as that.
                cpts.Add(0xFFFD);
                used = 1;
            }

            i += used;
        }

        offsets.Add(text.Length);
        var words = new List<(int, int)>();
        var scanner = new Scanner(cpts, 0, cpts.Count);
        foreach (var (startCpt, endCpt) in SplitCodepoints(scanner))
        {
            words.Add((offsets[startCpt], offsets[endCpt] - offsets[startCpt]));
        }

        return words;
    }

    /// <summary>Yields [start, end) code point ranges covering the scanner's text in order.</summary>
    protected abstract IEnumerable<(int Start, int End)> SplitCodepoints(Scanner s);

    public static PreTokenizer ForName(string? pre) => pre switch
    {
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "pixtral" or "smaug-bpe" or "dbrx" => new Llama3PreTokenizer(),
        "gpt-2" or "phi-2" or "mpt" or "olmo" or "jina-es" or "jina-de" or "roberta-bpe" => new Gpt2PreTokenizer(),
        _ => throw new NotSupportedException(
            $"Byte-level BPE pre-tokenizer '{pre ?? "(none)"}' is not supported; supported: llama3/llama-bpe (Llama-3 regex) and gpt-2 (GPT-2 regex)."),
    };

    /// <summary>Code point access with llama.cpp's out-of-range convention (no class, sentinel value).</summary>
    protected readonly struct Scanner(List<int> cpts, int start, int end)
    {
        public const int OutOfRange = -1;

        public int Start => start;

        public int End => end;

        public int Cpt(int pos) => pos >= start && pos < end ? cpts[pos] : OutOfRange;

        public bool InRange(int pos) => pos >= start && pos < end;

        public bool IsLetter(int pos) => InRange(pos) && CodepointClass.IsLetter(cpts[pos]);

        public bool IsNumber(int pos) => InRange(pos) && CodepointClass.IsNumber(cpts[pos]);

        public bool IsWhitespace(int pos) => InRange(pos) && CodepointClass.IsWhitespace(cpts[pos]);

        /// <summary>[^\s\p{L}\p{N}] for a code point inside the text.</summary>
        public bool IsOther(int pos) => InRange(pos) && !IsWhitespace(pos) && !IsLetter(pos) && !IsNumber(pos);
    }
}
