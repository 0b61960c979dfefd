using System.Numerics;
using System.Runtime.CompilerServices;

namespace Alpaca.Dedup.Index;

/// <summary>
/// One global total order of the elements (token, k-th occurrence of it in a text), the order PPJoin-style
/// prefix filtering needs: treating each occurrence as its own element turns the multiset intersection of
/// two token lists into a plain set intersection. Rarest token first (by a frequency snapshot), so the
/// first elements of a text hit short posting lists. Any fixed order gives exact results; frequency only
/// decides how much is pruned. Tokens unknown when the order was made count as the rarest (ordered by id).
/// <para>The 128 most frequent tokens also get a bit each: a text's <see cref="Signature"/> says which of
/// them it holds, which bounds the overlap of two texts without reading either (see
/// <see cref="MaxSimilaritySearch"/>). On this data they cover 60% of all token occurrences.</para>
/// </summary>
public sealed class ElementOrder
{
    /// <summary>Tokens with a signature bit.</summary>
    public const int SignatureTokens = 128;

    private readonly int[] _rank;
    private readonly int[] _bit; // token → 1 + signature bit, 0: none

    /// <param name="frequency">Occurrences of each token id in the texts the order is made for.</param>
    public ElementOrder(ReadOnlySpan<int> frequency)
    {
        var ids = new int[frequency.Length];
        var keys = new long[frequency.Length];
        for (var t = 0; t < ids.Length; t++)
        {
            ids[t] = t;
            keys[t] = ((long)frequency[t] << 32) | (uint)t;
        }

        Array.Sort(keys, ids);
        _rank = new int[frequency.Length];
        _bit = new int[frequency.Length];
        for (var r = 0; r < ids.Length; r++)
        {
            _rank[ids[r]] = r;
        }

        // The most frequent tokens (that occur at all) get the signature bits.
        for (int r = ids.Length - 1, bit = 0; r >= 0 && bit < SignatureTokens && frequency[ids[r]] > 0; r--, bit++)
        {
            _bit[ids[r]] = bit + 1;
        }
    }

    /// <summary>The element (token, k) as one value: the postings key.</summary>
    public static long Element(int token, int k) => ((long)token << 32) | (uint)k;

    /// <summary>The sort key of an element: its place in the global order.</summary>
    public long SortKey(int token, int k)
    {
        long rank = token < _rank.Length ? _rank[token] : int.MinValue + (long)token;
        return (rank << 32) | (uint)k;
    }

    /// <summary>True for the first occurrence of a signature token: the elements a <see cref="Signature"/> covers.</summary>
    public bool IsSignatureElement(long element) => (uint)element == 0 && SignatureBit((int)(element >> 32)) >= 0;

    /// <summary>The signature bit of a token, or −1.</summary>
    public int SignatureBit(int token) => token >= 0 && token < _bit.Length ? _bit[token] - 1 : -1;

    /// <summary>Which signature tokens a text holds (each counted once, however often it occurs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Signature Signature(ReadOnlySpan<int> tokens)
    {
        var signature = default(Signature);
        foreach (var t in tokens)
        {
            signature = signature.With(SignatureBit(t));
        }

        return signature;
    }

    /// <summary>
    /// The elements of a text in the global order (unknown tokens, id &lt; 0, are left out).
    /// <paramref name="occurrences"/> is zeroed scratch indexed by token id, zeroed again on return.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Sort(ReadOnlySpan<int> tokens, Span<long> elements, Span<long> sortKeys, int[] occurrences)
    {
        var count = 0;
        foreach (var t in tokens)
        {
            if (t < 0)
            {
                continue;
            }

            var k = occurrences[t]++;
            elements[count] = Element(t, k);
            sortKeys[count] = SortKey(t, k);
            count++;
        }

        foreach (var t in tokens)
        {
            if (t >= 0)
            {
                occurrences[t] = 0;
            }
        }

        sortKeys[..count].Sort(elements[..count]);
        return count;
    }
}

/// <summary>A set of signature tokens (128 bits).</summary>
public readonly record struct Signature(ulong Low, ulong High)
{
    public int Count => BitOperations.PopCount(Low) + BitOperations.PopCount(High);

    public Signature With(int bit) => bit switch
    {
        < 0 => this,
        < 64 => this with { Low = Low | (1UL << bit) },
        _ => this with { High = High | (1UL << (bit - 64)) },
    };

    /// <summary>Size of the intersection.</summary>
    public int Shared(in Signature other) => BitOperations.PopCount(Low & other.Low) + BitOperations.PopCount(High & other.High);
}
