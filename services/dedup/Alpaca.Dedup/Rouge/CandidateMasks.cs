using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Alpaca.Dedup.Rouge;

/// <summary>
/// The bit-parallel LCS kernel (Allison–Dix 1986, Hyyrö 2004) for one candidate x against many y.
/// <see cref="Load"/> builds, per distinct token of x, the mask of its positions in x. Then for each y:
/// V starts all ones; for each token y_j: U = V &amp; M[y_j]; V = (V + U) | (V − U); and LCS is the
/// number of zero bits of V. Since U ⊆ V, V − U never borrows (it is V &amp; ~U), and the bits above
/// |x| stay one, so LCS = popcount(~V) with no final mask.
/// <para>Up to 64 tokens x is one <c>ulong</c>, with masks in a table indexed by token id (a token not
/// in x reads 0 and leaves V unchanged, so the loop has no branch). Longer x uses ⌈|x|/64⌉ words with
/// the carry of the addition rippling between words.</para>
/// The tables are sized to the vocabulary and reused, so one instance per thread; <see cref="Load"/>
/// clears what the previous candidate set.
/// </summary>
public sealed class CandidateMasks
{
    private ulong[] _single = new ulong[1024];
    private int[] _slotOf = new int[1024]; // token → 1 + slot in _multi (0: not in x), for |x| > 64
    private ulong[] _multi = [];
    private readonly List<int> _loaded = [];
    private int _words;

    /// <summary>|x| of the loaded candidate.</summary>
    public int Length { get; private set; }

    /// <summary>True when x fits one word (1 ≤ |x| ≤ 64): then <see cref="SingleWordTable"/> holds the masks.</summary>
    public bool SingleWord => _words == 1;

    /// <summary>The one-word masks indexed by token id, for kernels that inline the loop (valid while <see cref="SingleWord"/>).</summary>
    public ulong[] SingleWordTable => _single;

    /// <summary>
    /// Loads x. Token ids must be below <paramref name="vocabularySize"/>, as must those of every y
    /// later passed to <see cref="Lcs"/>; negative ids in x (unknown tokens) match nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Load(ReadOnlySpan<int> x, int vocabularySize)
    {
        Clear();
        if (_single.Length < vocabularySize)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(vocabularySize, 1 << 30);
            var size = (int)BitOperations.RoundUpToPowerOf2((uint)vocabularySize); // a power of two: see Lcs
            _single = new ulong[size];
            _slotOf = new int[size];
        }

        Length = x.Length;
        _words = (x.Length + 63) >> 6;
        if (_words <= 1)
        {
            for (var i = 0; i < x.Length; i++)
            {
                if (x[i] >= 0)
                {
                    if (_single[x[i]] == 0)
                    {
                        _loaded.Add(x[i]);
                    }

                    _single[x[i]] |= 1UL << i;
                }
            }

            return;
        }

        for (var i = 0; i < x.Length; i++)
        {
            var t = x[i];
            if (t < 0)
            {
                continue;
            }

            if (_slotOf[t] == 0)
            {
                _loaded.Add(t);
                _slotOf[t] = _loaded.Count;
                if (_multi.Length < _loaded.Count * _words)
                {
                    Array.Resize(ref _multi, Math.Max(_loaded.Count * _words, _multi.Length * 2));
                }

                _multi.AsSpan((_loaded.Count - 1) * _words, _words).Clear();
            }

            _multi[((_slotOf[t] - 1) * _words) + (i >> 6)] |= 1UL << (i & 63);
        }
    }

    private void Clear()
    {
        foreach (var t in _loaded)
        {
            _single[t] = 0;
            _slotOf[t] = 0;
        }

        _loaded.Clear();
    }

    /// <summary>LCS of the loaded x and y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lcs(ReadOnlySpan<int> y)
    {
        if (_words == 1)
        {
            // The reads skip bounds checks; ids are below the table size by Load's contract, and the mask
            // (the size is a power of two) keeps even a broken contract inside the table.
            ref var table = ref MemoryMarshal.GetArrayDataReference(_single);
            var slots = _single.Length - 1;
            var v = ulong.MaxValue;
            foreach (var t in y)
            {
                var u = v & Unsafe.Add(ref table, t & slots);
                v = (v + u) | (v - u);
            }

            return BitOperations.PopCount(~v);
        }

        return _words == 0 ? 0 : LcsMultiWord(y);
    }

    private int LcsMultiWord(ReadOnlySpan<int> y)
    {
        var words = _words;
        Span<ulong> v = words <= 256 ? stackalloc ulong[words] : new ulong[words];
        v.Fill(ulong.MaxValue);
        foreach (var t in y)
        {
            var slot = (uint)t < (uint)_slotOf.Length ? _slotOf[t] : 0;
            if (slot == 0)
            {
                continue; // U = 0: V + 0 | V − 0 = V
            }

            var mask = _multi.AsSpan((slot - 1) * words, words);
            ulong carry = 0;
            for (var w = 0; w < words; w++)
            {
                var vw = v[w];
                var u = vw & mask[w];
                var sum = vw + u;
                var carryOut = sum < vw ? 1UL : 0UL;
                var sumWithCarry = sum + carry;
                carryOut |= sumWithCarry < sum ? 1UL : 0UL;
                v[w] = sumWithCarry | (vw & ~u);
                carry = carryOut;
            }
        }

        var zeros = 0;
        foreach (var word in v)
        {
            zeros += BitOperations.PopCount(~word);
        }

        return zeros;
    }
}
