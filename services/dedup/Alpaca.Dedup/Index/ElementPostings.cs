using System.Runtime.CompilerServices;

namespace Alpaca.Dedup.Index;

/// <summary>One entry holding an element, with its length so the positional bound needs no other read.</summary>
public readonly record struct Posting(int Entry, int Length);

/// <summary>
/// The entries holding one element, grouped by the element's position j in each entry's own ordered
/// elements (j = 0: it is that entry's rarest). An entry first met at position j shares at most n − j
/// elements, so a search reads the groups by ascending j and stops where even the best case of a group
/// cannot reach the best F found. Within a group, entries are sorted by length (pool order among equal
/// lengths), since for a given group the positional bound depends on the length alone and passes an
/// interval of lengths. Only the positions that hold an entry have a group (ascending): a dense array of
/// groups 0 … j made one entry of n elements allocate n²/2 empty groups, 7 s and gigabytes for a
/// 10,000-token instruction.
/// </summary>
public sealed class ElementPostings
{
    private int[] _positions = new int[2];
    private PostingGroup[] _groups = new PostingGroup[2];

    /// <summary>Groups held, ascending by position (none is empty).</summary>
    public int Count { get; private set; }

    /// <summary>The position j of the <paramref name="i"/>-th group.</summary>
    public int PositionAt(int i) => _positions[i];

    /// <summary>The <paramref name="i"/>-th group.</summary>
    public PostingGroup GroupAt(int i) => _groups[i];

    public void Add(int j, in Posting posting)
    {
        var i = Array.BinarySearch(_positions, 0, Count, j);
        if (i < 0)
        {
            i = ~i;
            if (Count == _positions.Length)
            {
                Array.Resize(ref _positions, Count * 2);
                Array.Resize(ref _groups, Count * 2);
            }

            Array.Copy(_positions, i, _positions, i + 1, Count - i);
            Array.Copy(_groups, i, _groups, i + 1, Count - i);
            (_positions[i], _groups[i]) = (j, new PostingGroup());
            Count++;
        }

        _groups[i].Add(posting);
    }
}

/// <summary>
/// Postings sorted by entry length, plus a short unsorted tail of the latest ones: an insert appends, and
/// the tail is merged in (stably: pool order among equal lengths) once it holds <see cref="TailLimit"/>,
/// so a large group is not shifted on every insert.
/// </summary>
public sealed class PostingGroup
{
    /// <summary>Postings kept unsorted at the end before a merge.</summary>
    public const int TailLimit = 32;

    private Posting[] _items = new Posting[2];
    private int _sorted;

    public int Count { get; private set; }

    /// <summary>The postings sorted by length.</summary>
    public ReadOnlySpan<Posting> Sorted => _items.AsSpan(0, _sorted);

    /// <summary>The latest postings, in pool order.</summary>
    public ReadOnlySpan<Posting> Tail => _items.AsSpan(_sorted, Count - _sorted);

    public void Add(in Posting posting)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
        }

        _items[Count++] = posting;
        if (Count - _sorted >= TailLimit)
        {
            MergeTail();
        }
    }

    /// <summary>The index in <see cref="Sorted"/> of the first posting whose entry has more than <paramref name="length"/> tokens.</summary>
    public int FirstLongerThan(int length)
    {
        int low = 0, high = _sorted;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (_items[mid].Length <= length)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MergeTail()
    {
        Span<Posting> tail = stackalloc Posting[TailLimit];
        var count = Count - _sorted;
        _items.AsSpan(_sorted, count).CopyTo(tail);
        tail = tail[..count];
        for (var i = 1; i < tail.Length; i++) // stable insertion sort by length
        {
            var p = tail[i];
            var at = i;
            while (at > 0 && tail[at - 1].Length > p.Length)
            {
                tail[at] = tail[at - 1];
                at--;
            }

            tail[at] = p;
        }

        // Merge from the back; on equal lengths the (newer) tail posting goes last.
        int a = _sorted - 1, b = tail.Length - 1, to = Count - 1;
        while (b >= 0)
        {
            _items[to--] = a >= 0 && _items[a].Length > tail[b].Length ? _items[a--] : tail[b--];
        }

        _sorted = Count;
    }
}
