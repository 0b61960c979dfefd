using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Index;

/// <summary>
/// F1 of one candidate against every entry of a range, in pool order, with no pruning: what Alpaca's extra
/// fields need (its average is over the whole pool). Entries sharing no token get LCS 0 from the masks and
/// score exactly 0. The pool's tokens are read front to back, and F for each (L, n) is computed once per
/// candidate (the same double expression, so the same bits). <see cref="Load"/> a candidate first; after
/// that <see cref="Score"/> only reads, so threads may score disjoint ranges of one candidate at once.
/// </summary>
public sealed class PoolScorer
{
    private const int TableLengths = 128;

    private readonly CandidateMasks _masks = new();
    private double[] _f = new double[(TableLengths + 1) * 65]; // [L, n] for n ≤ 128, NaN until computed
    private int _m;

    public void Load(ReadOnlySpan<int> x, int vocabularySize)
    {
        _masks.Load(x, vocabularySize);
        _m = x.Length;
        var rows = (_m + 1) * (TableLengths + 1);
        if (_f.Length < rows)
        {
            _f = new double[rows];
        }

        _f.AsSpan(0, rows).Fill(double.NaN);
    }

    /// <summary>Writes F(candidate, entry) into <paramref name="scores"/>[entry − from] for entries [from, to).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Score(SimilarityIndex index, int from, int to, Span<double> scores)
    {
        var (tokens, offsets) = index.Store;
        var lengths = index.Lengths;
        if (_m == 0 || from == to)
        {
            scores[..(to - from)].Clear();
            return;
        }

        if (!_masks.SingleWord)
        {
            for (var entry = from; entry < to; entry++)
            {
                scores[entry - from] = F(_masks.Lcs(tokens.AsSpan(offsets[entry], lengths[entry])), lengths[entry]);
            }

            return;
        }

        // One machine word: the kernel inlined over the flat token store (see CandidateMasks). The reads
        // skip bounds checks; the mask (the table size is a power of two) keeps every id inside the table.
        ref var table = ref MemoryMarshal.GetArrayDataReference(_masks.SingleWordTable);
        var slots = _masks.SingleWordTable.Length - 1;
        ref var store = ref MemoryMarshal.GetArrayDataReference(tokens);
        var offset = offsets[from];
        for (var entry = from; entry < to; entry++)
        {
            var n = lengths[entry];
            var v = ulong.MaxValue;
            for (var k = 0; k < n; k++)
            {
                var u = v & Unsafe.Add(ref table, Unsafe.Add(ref store, offset + k) & slots);
                v = (v + u) | (v - u);
            }

            offset += n;
            scores[entry - from] = F(BitOperations.PopCount(~v), n);
        }
    }

    /// <summary>F of an LCS against an entry of n tokens, from the table when n ≤ 128.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double F(int lcs, int n)
    {
        if (lcs == 0)
        {
            return 0.0;
        }

        if (n > TableLengths)
        {
            return RougeScore.F(lcs, _m, n);
        }

        ref var f = ref _f[(lcs * (TableLengths + 1)) + n];
        if (double.IsNaN(f))
        {
            f = RougeScore.F(lcs, _m, n);
        }

        return f;
    }

    /// <summary>The maximum and the first position reaching it (the reference's <c>argmax</c>); (0, −1) when empty.</summary>
    public static (double Max, int ArgMax) ArgMax(ReadOnlySpan<double> scores)
    {
        if (scores.IsEmpty)
        {
            return (0.0, -1);
        }

        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }

        return (scores[best], best);
    }
}
