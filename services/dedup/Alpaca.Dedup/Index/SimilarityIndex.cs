using System.Runtime.CompilerServices;

namespace Alpaca.Dedup.Index;

/// <summary>
/// The pool's token lists (flat, in pool order) and an inverted index over all their elements
/// (<see cref="ElementOrder"/>), each posting filed under its position in the entry's ordered elements
/// (<see cref="ElementPostings"/>). Append-only; <see cref="Reorder"/> refiles every posting under a new
/// global order (the incremental pool does this as token frequencies drift). Not synchronised: one
/// writer, or many readers while no writer runs.
/// </summary>
public sealed class SimilarityIndex
{
    private ElementPostings?[] _firstCopies = new ElementPostings?[1024]; // (token, 0) by token: most lookups
    private readonly Dictionary<long, ElementPostings> _repeats = []; // (token, k ≥ 1)
    private int[] _tokens = new int[4096];
    private int[] _offsets = new int[1024];
    private int[] _lengths = new int[1024];
    private Signature[] _signatures = new Signature[1024];
    private int _tokenCount;
    private int[] _occurrences = new int[1024];
    private long[] _elements = new long[256];
    private long[] _sortKeys = new long[256];

    public SimilarityIndex(ElementOrder order) => Order = order;

    public ElementOrder Order { get; private set; }

    /// <summary>Number of entries.</summary>
    public int Count { get; private set; }

    /// <summary>Total tokens over all entries.</summary>
    public int TokenCount => _tokenCount;

    public int Length(int entry) => _lengths[entry];

    public ReadOnlySpan<int> Tokens(int entry) => _tokens.AsSpan(_offsets[entry], _lengths[entry]);

    /// <summary>The entry lengths, indexed by entry (valid up to <see cref="Count"/>).</summary>
    internal int[] Lengths => _lengths;

    /// <summary>Each entry's signature under the current order (16 bytes an entry: a search reads them from cache).</summary>
    internal Signature[] Signatures => _signatures;

    /// <summary>The flat token store and entry offsets, for scans over every entry.</summary>
    internal (int[] Tokens, int[] Offsets) Store => (_tokens, _offsets);

    /// <summary>The postings of an element (<see cref="ElementOrder.Element"/>), if any entry holds it.</summary>
    public bool TryGetPostings(long element, out ElementPostings postings)
    {
        var (token, k) = ((int)(element >> 32), (uint)element);
        if (k != 0)
        {
            return _repeats.TryGetValue(element, out postings!);
        }

        postings = token < _firstCopies.Length ? _firstCopies[token]! : null!;
        return postings is not null;
    }

    /// <summary>Appends an entry (token ids ≥ 0) and files its elements; returns its position.</summary>
    public int Add(ReadOnlySpan<int> tokens)
    {
        var entry = Count;
        if (entry == _offsets.Length)
        {
            Array.Resize(ref _offsets, entry * 2);
            Array.Resize(ref _lengths, entry * 2);
            Array.Resize(ref _signatures, entry * 2);
        }

        if (_tokenCount + tokens.Length > _tokens.Length)
        {
            Array.Resize(ref _tokens, Math.Max(_tokenCount + tokens.Length, _tokens.Length * 2));
        }

        tokens.CopyTo(_tokens.AsSpan(_tokenCount));
        _offsets[entry] = _tokenCount;
        _lengths[entry] = tokens.Length;
        _tokenCount += tokens.Length;
        Count++;
        File(entry);
        return entry;
    }

    /// <summary>Refiles every posting under a new global order (results stay exact under any order).</summary>
    public void Reorder(ElementOrder order)
    {
        Order = order;
        Array.Clear(_firstCopies);
        _repeats.Clear();
        for (var entry = 0; entry < Count; entry++)
        {
            File(entry);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void File(int entry)
    {
        var tokens = Tokens(entry);
        if (tokens.Length > _elements.Length)
        {
            _elements = new long[tokens.Length];
            _sortKeys = new long[tokens.Length];
        }

        foreach (var t in tokens)
        {
            if (t >= _occurrences.Length)
            {
                Array.Resize(ref _occurrences, Math.Max(t + 1, _occurrences.Length * 2));
            }
        }

        var count = Order.Sort(tokens, _elements, _sortKeys, _occurrences);
        _signatures[entry] = Order.Signature(tokens);
        var posting = new Posting(entry, tokens.Length);
        for (var j = 0; j < count; j++)
        {
            PostingsFor(_elements[j]).Add(j, posting);
        }
    }

    private ElementPostings PostingsFor(long element)
    {
        var (token, k) = ((int)(element >> 32), (uint)element);
        if (k != 0)
        {
            if (!_repeats.TryGetValue(element, out var repeated))
            {
                _repeats[element] = repeated = new ElementPostings();
            }

            return repeated;
        }

        if (token >= _firstCopies.Length)
        {
            Array.Resize(ref _firstCopies, Math.Max(token + 1, _firstCopies.Length * 2));
        }

        return _firstCopies[token] ??= new ElementPostings();
    }
}
