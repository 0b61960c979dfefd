using System.Numerics;

namespace Alpaca.Dedup.Rouge;

/// <summary>
/// Longest common subsequence length of two token-id sequences. <see cref="Reference"/> is the plain
/// dynamic programme of rouge_score; <see cref="Compute"/> is the bit-parallel algorithm
/// (Allison–Dix / Hyyrö): with a mask per token of its positions in x, V starts all ones and for each
/// y_j: U = V &amp; M[y_j]; V = (V + U) | (V − U); then LCS = |x| − popcount(V). One machine word when
/// |x| ≤ 64, multi-word add/subtract with carry beyond.
/// </summary>
public static class Lcs
{
    /// <summary>The O(m·n) table of rouge_score, one row at a time.</summary>
    public static int Reference(ReadOnlySpan<int> x, ReadOnlySpan<int> y)
    {
        if (x.Length == 0 || y.Length == 0)
        {
            return 0;
        }

        var previous = new int[y.Length + 1];
        var current = new int[y.Length + 1];
        for (var i = 1; i <= x.Length; i++)
        {
            for (var j = 1; j <= y.Length; j++)
            {
                current[j] = x[i - 1] == y[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        return previous[y.Length];
    }

    /// <summary>Bit-parallel LCS, building the masks of x on the fly.</summary>
    public static int Compute(ReadOnlySpan<int> x, ReadOnlySpan<int> y)
    {
        if (x.Length == 0 || y.Length == 0)
        {
            return 0;
        }

        var masks = new LcsMasks(x);
        return masks.Lcs(y);
    }
}

/// <summary>
/// The position masks of one sequence x, built once and reused against many y (one candidate against
/// the pool). Masks are kept per distinct token in a small open-addressing table.
/// </summary>
public sealed class LcsMasks
{
    private readonly int _length;
    private readonly int _words;
    private readonly int[] _keys;
    private readonly ulong[] _masks; // _keys.Length slots × _words
    private readonly int _slotMask;
    private readonly ulong _lastWordMask;

    public LcsMasks(ReadOnlySpan<int> x)
    {
        _length = x.Length;
        _words = Math.Max(1, (x.Length + 63) / 64);
        var slots = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, x.Length * 2));
        _slotMask = slots - 1;
        _keys = new int[slots];
        Array.Fill(_keys, -1);
        _masks = new ulong[slots * _words];
        for (var i = 0; i < x.Length; i++)
        {
            var slot = FindSlot(x[i], insert: true);
            _masks[(slot * _words) + (i >> 6)] |= 1UL << (i & 63);
        }

        var tail = x.Length & 63;
        _lastWordMask = tail == 0 ? ulong.MaxValue : (1UL << tail) - 1;
    }

    public int Length => _length;

    private int FindSlot(int token, bool insert)
    {
        var slot = (int)((uint)token * 2654435761u) & _slotMask;
        while (true)
        {
            var key = _keys[slot];
            if (key == token)
            {
                return slot;
            }

            if (key == -1)
            {
                if (!insert)
                {
                    return -1;
                }

                _keys[slot] = token;
                return slot;
            }

            slot = (slot + 1) & _slotMask;
        }
    }

    /// <summary>LCS of x and y. Thread-safe: the masks are read-only once built.</summary>
    public int Lcs(ReadOnlySpan<int> y)
    {
        if (_length == 0 || y.Length == 0)
        {
            return 0;
        }

        if (_words == 1)
        {
            var v = ulong.MaxValue;
            foreach (var token in y)
            {
                var slot = FindSlot(token, insert: false);
                if (slot < 0)
                {
                    continue;
                }

                var u = v & _masks[slot];
                v = (v + u) | (v - u);
            }

            return BitOperations.PopCount(~v & _lastWordMask);
        }

        return LcsMultiWord(y);
    }

    private int LcsMultiWord(ReadOnlySpan<int> y)
    {
        Span<ulong> v = _words <= 64 ? stackalloc ulong[_words] : new ulong[_words];
        v.Fill(ulong.MaxValue);
        foreach (var token in y)
        {
            var slot = FindSlot(token, insert: false);
            if (slot < 0)
            {
                continue;
            }

            var m = _masks.AsSpan(slot * _words, _words);
            ulong carry = 0, borrow = 0;
            for (var w = 0; w < _words; w++)
            {
                var vw = v[w];
                var u = vw & m[w];
                // sum = vw + u + carry, diff = vw - u - borrow, with carry and borrow across words
                var sum = vw + u;
                var c1 = sum < vw ? 1UL : 0UL;
                var sum2 = sum + carry;
                var c2 = sum2 < sum ? 1UL : 0UL;
                var diff = vw - u;
                var b1 = vw < u ? 1UL : 0UL;
                var diff2 = diff - borrow;
                var b2 = diff < borrow ? 1UL : 0UL;
                v[w] = sum2 | diff2;
                carry = c1 | c2;
                borrow = b1 | b2;
            }
        }

        var zeros = 0;
        for (var w = 0; w < _words; w++)
        {
            var word = w == _words - 1 ? ~v[w] & _lastWordMask : ~v[w];
            zeros += BitOperations.PopCount(word);
        }

        return zeros;
    }
}
