using System.Runtime.CompilerServices;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Index;

/// <summary>
/// The exact maximum ROUGE-L F1 of a candidate over every entry of a <see cref="SimilarityIndex"/>, and
/// the first entry reaching it (the reference's <c>argmax</c>), reading few entries. F ≤ 2·LCS/(m+n) ≤
/// 2·I/(m+n), I being the multiset overlap, so an entry is skipped when an upper bound of I cannot reach
/// the best F found so far:
/// <list type="number">
/// <item>Entries sharing no element with the candidate score exactly 0 and are never met.</item>
/// <item>The candidate's elements are probed in the global order (rarest first). An entry first met at
/// probe i, at position j of its own ordered elements, shares no element before those, so
/// I ≤ min(M, n − j) with M the probes from i on (positional filter, PPJoin).</item>
/// <item>Signature bound: the shared elements are first copies of signature tokens, at most
/// |sig(x) ∩ sig(y)|, plus the rest, at most min(rest of x from probe i on, n − |sig(y)|). The posting
/// carries n and the index keeps sig(y) in a small array, so neither bound reads the entry's tokens.</item>
/// <item>Position groups are read by ascending j and left at the first whose best case 2M/(m+j+M) misses
/// the best F; probing stops when no unmet entry can reach it, 2M/(m+M). Frequent words ("the", "a")
/// sit late in both orders, so their long lists are barely read.</item>
/// <item>Survivors get the bit-parallel LCS, and the exact double F only when 2L/(m+n) can reach the
/// best; equal F keeps the lower position.</item>
/// </list>
/// A later meeting of an entry has smaller bounds than its first, so each entry is judged once. The best
/// F is found early (rare shared words mark the likeliest near-duplicates), which tightens every bound
/// after it. Bounds are compared with a 1e-9 margin: above the few-ulp gap between F's double and its
/// rational value, so an exact maximum or a tie is never dropped; a larger margin only prunes less.
/// Scratch is per instance: one per thread, reading an index no writer changes meanwhile.
/// </summary>
public sealed class MaxSimilaritySearch(SimilarityIndex index)
{
    /// <summary>Slack on every bound comparison (see the class remarks).</summary>
    public const double Margin = 1e-9;

    private readonly CandidateMasks _masks = new();
    private readonly List<ElementPostings> _probes = [];
    private int[] _restFrom = new int[256];
    private int[] _seen = new int[1024];
    private int _stamp;
    private int[] _occurrences = new int[1024];
    private long[] _elements = new long[256];
    private long[] _sortKeys = new long[256];

    /// <summary>
    /// Max F of <paramref name="x"/> (token ids &lt; <paramref name="vocabularySize"/>, or −1 for tokens the
    /// pool has never seen) and its first position: (0, −1) for an empty index, (0, 0) when nothing is shared.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (double MaxF, int ArgMax) Find(ReadOnlySpan<int> x, int vocabularySize, ref SearchCounters counters)
    {
        var count = index.Count;
        if (count == 0)
        {
            return (0.0, -1);
        }

        var m = x.Length;
        var signature = CollectProbes(x, vocabularySize);
        var probes = _probes.Count;
        if (probes == 0)
        {
            return (0.0, 0); // every entry scores 0; the reference's argmax is the first
        }

        _masks.Load(x, vocabularySize);
        NextStamp(count);
        var best = 0.0;
        var bestPos = 0;
        for (var i = 0; i < probes; i++)
        {
            var left = probes - i; // M: an upper bound of I for entries first met at this probe
            if (2.0 * left < (best - Margin) * (m + left))
            {
                break; // no entry not met yet can reach the best F
            }

            var postings = _probes[i];
            for (var g = 0; g < postings.Count; g++)
            {
                var j = postings.PositionAt(g);
                var need = best - Margin;
                if (2.0 * left < need * (m + j + left))
                {
                    break; // best case of group j and all later ones: n − j = M
                }

                // For this group the positional bound passes an interval of lengths: 2(n − j) ≥ need·(m + n)
                // from below, 2M ≥ need·(m + n) from above. Skip to the (conservatively lowered) start of the
                // sorted part, stop past its end; then the short unsorted tail.
                var group = postings.GroupAt(g);
                var first = need <= 0 ? 0 : group.FirstLongerThan((int)(((need * m) + (2 * j)) / (2 - need)) - 2);
                counters.Bounded += first;
                Scan(group.Sorted[first..], sorted: true, j, left, _restFrom[i], m, signature, ref best, ref bestPos, ref counters);
                Scan(group.Tail, sorted: false, j, left, _restFrom[i], m, signature, ref best, ref bestPos, ref counters);
            }
        }

        return (best, bestPos);
    }

    /// <summary>Applies the bounds to postings met at position j of probe i, verifying the survivors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Scan(ReadOnlySpan<Posting> items, bool sorted, int j, int left, int rest, int m, Signature signature, ref double best, ref int bestPos, ref SearchCounters counters)
    {
        var need = best - Margin;
        var signatures = index.Signatures;
        for (var k = 0; k < items.Length; k++)
        {
            ref readonly var p = ref items[k];
            var n = p.Length;
            if (2.0 * Math.Min(left, n - j) < need * (m + n))
            {
                if (sorted && n - j >= left)
                {
                    counters.Bounded += items.Length - k;
                    return; // longer entries only do worse
                }

                counters.Bounded++;
                continue;
            }

            counters.Touched++;
            ref readonly var other = ref signatures[p.Entry];
            if (2.0 * (other.Shared(signature) + Math.Min(rest, n - other.Count)) < need * (m + n))
            {
                counters.Bounded++;
                continue;
            }

            if (_seen[p.Entry] == _stamp)
            {
                continue; // verified at an earlier meeting
            }

            _seen[p.Entry] = _stamp;
            counters.Scored++;
            var lcs = _masks.Lcs(index.Tokens(p.Entry));
            if (2.0 * lcs < need * (m + n))
            {
                continue; // 2L/(m+n) misses the best F: no need for the divisions
            }

            var f = RougeScore.F(lcs, m, n);
            if (f > best || (f == best && p.Entry < bestPos))
            {
                best = f;
                bestPos = p.Entry;
                need = best - Margin;
            }
        }
    }

    /// <summary>
    /// The posting lists of the candidate's elements that some entry holds, in the global order; for each
    /// probe i the number of non-signature elements from i on; and the candidate's signature.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Signature CollectProbes(ReadOnlySpan<int> x, int vocabularySize)
    {
        _probes.Clear();
        if (x.Length >= _elements.Length)
        {
            _elements = new long[x.Length + 1];
            _sortKeys = new long[x.Length + 1];
            _restFrom = new int[x.Length + 1];
        }

        if (_occurrences.Length < vocabularySize)
        {
            _occurrences = new int[Math.Max(vocabularySize, _occurrences.Length * 2)];
        }

        var order = index.Order;
        var count = order.Sort(x, _elements, _sortKeys, _occurrences);
        for (var i = 0; i < count; i++)
        {
            if (index.TryGetPostings(_elements[i], out var postings))
            {
                _elements[_probes.Count] = _elements[i];
                _probes.Add(postings);
            }
        }

        var signature = default(Signature);
        _restFrom[_probes.Count] = 0;
        for (var i = _probes.Count - 1; i >= 0; i--)
        {
            var element = _elements[i];
            var isSignature = order.IsSignatureElement(element);
            _restFrom[i] = _restFrom[i + 1] + (isSignature ? 0 : 1);
            if (isSignature)
            {
                signature = signature.With(order.SignatureBit((int)(element >> 32)));
            }
        }

        return signature;
    }

    private void NextStamp(int count)
    {
        if (_seen.Length < count)
        {
            _seen = new int[Math.Max(count, _seen.Length * 2)];
            _stamp = 0;
        }

        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_seen);
            _stamp = 1;
        }
    }
}
