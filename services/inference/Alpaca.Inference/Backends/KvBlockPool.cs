namespace Alpaca.Inference.Backends;

/// <summary>
/// The KV cache's blocks as a pool: a block is free, held by one or more sequences (reference counted),
/// or cached — no longer held but its keys and values kept, findable by the hash of its tokens and of
/// everything before it (vLLM's automatic prefix caching). A cached block is evicted, least recently
/// released first, when a free block is needed and none is left. Only full blocks are cached; a hit is
/// verified against the block's tokens and its parent's hash, so reuse is exact up to a 64-bit hash
/// collision of two whole prefixes. Not thread-safe: <see cref="SlotTable"/> calls it under its lock.
/// </summary>
public sealed class KvBlockPool
{
    private readonly int[] _refs;
    private readonly ulong[] _hash;
    private readonly ulong[] _parentHash;
    private readonly bool[] _registered;
    private readonly int[] _tokens;
    private readonly Stack<int> _free;
    private readonly LinkedList<int> _lru = new();
    private readonly LinkedListNode<int>?[] _lruNodes;
    private readonly Dictionary<ulong, int> _byHash = [];

    // Registered blocks by the hash of the prefix before them: where a prompt that matches only the start of
    // a cached block looks (partial reuse).
    private readonly Dictionary<ulong, List<int>> _byParent = [];

    public KvBlockPool(int blocks, int blockTokens, bool prefixCaching)
    {
        if (blocks <= 0 || blockTokens <= 0)
        {
            throw new ArgumentException($"A KV block pool needs blocks and positions per block (blocks {blocks}, block tokens {blockTokens}).");
        }

        Blocks = blocks;
        BlockTokens = blockTokens;
        PrefixCaching = prefixCaching;
        _refs = new int[blocks];
        _hash = new ulong[blocks];
        _parentHash = new ulong[blocks];
        _registered = new bool[blocks];
        _lruNodes = new LinkedListNode<int>?[blocks];
        _tokens = prefixCaching ? new int[(long)blocks * blockTokens] : [];

        // Taken lowest first, so a fresh pool fills from block 0.
        _free = new Stack<int>(Enumerable.Range(0, blocks).Reverse());
    }

    public int Blocks { get; }

    public int BlockTokens { get; }

    public bool PrefixCaching { get; }

    /// <summary>Blocks a sequence can get now: free ones and cached ones that can be evicted.</summary>
    public int Available => _free.Count + _lru.Count;

    /// <summary>Cached blocks no sequence holds (evictable).</summary>
    public int Cached => _lru.Count;

    /// <summary>Evictions of cached blocks so far.</summary>
    public long Evictions { get; private set; }

    public int References(int block) => _refs[block];

    public bool IsRegistered(int block) => _registered[block];

    /// <summary>A block for one holder (reference count 1), or -1 when none is free or evictable.</summary>
    public int Take()
    {
        int block;
        if (_free.Count > 0)
        {
            block = _free.Pop();
        }
        else if (_lru.First is { } oldest)
        {
            block = oldest.Value;
            RemoveFromLru(block);
            Unregister(block);
            Evictions++;
        }
        else
        {
            return -1;
        }

        _refs[block] = 1;
        return block;
    }

    /// <summary>One more holder of a block found by <see cref="Find"/> (taking it out of the eviction order).</summary>
    public void Retain(int block)
    {
        if (_refs[block]++ == 0)
        {
            RemoveFromLru(block);
        }
    }

    /// <summary>One holder fewer; unheld, a cached block joins the eviction order as its newest, any other is free.</summary>
    public void Release(int block)
    {
        if (_refs[block] <= 0)
        {
            throw new InvalidOperationException($"KV block {block} is not held.");
        }

        if (--_refs[block] > 0)
        {
            return;
        }

        if (_registered[block])
        {
            _lruNodes[block] = _lru.AddLast(block);
        }
        else
        {
            _free.Push(block);
        }
    }

    /// <summary>
    /// Makes a full block findable under <paramref name="hash"/> (its chain hash). When another block already
    /// holds that prefix this one stays private: the first computed copy is the one reused.
    /// </summary>
    public void Register(int block, ulong hash, ulong parentHash, ReadOnlySpan<int> tokens)
    {
        if (!PrefixCaching || _registered[block] || _byHash.ContainsKey(hash))
        {
            return;
        }

        _byHash[hash] = block;
        if (!_byParent.TryGetValue(parentHash, out var children))
        {
            _byParent[parentHash] = children = [];
        }

        children.Add(block);
        _hash[block] = hash;
        _parentHash[block] = parentHash;
        _registered[block] = true;
        tokens.CopyTo(_tokens.AsSpan(block * BlockTokens, BlockTokens));
    }

    /// <summary>The cached or held block with exactly these tokens after the prefix <paramref name="parentHash"/>, or -1.</summary>
    public int Find(ulong hash, ulong parentHash, ReadOnlySpan<int> tokens)
    {
        if (!PrefixCaching || !_byHash.TryGetValue(hash, out var block))
        {
            return -1;
        }

        return _parentHash[block] == parentHash && tokens.SequenceEqual(_tokens.AsSpan(block * BlockTokens, BlockTokens)) ? block : -1;
    }

    /// <summary>Forgets a block's prefix (its contents are about to change, or it was evicted).</summary>
    public void Unregister(int block)
    {
        if (!_registered[block])
        {
            return;
        }

        _registered[block] = false;
        if (_byHash.TryGetValue(_hash[block], out var b) && b == block)
        {
            _byHash.Remove(_hash[block]);
        }

        if (_byParent.TryGetValue(_parentHash[block], out var children))
        {
            children.Remove(block);
            if (children.Count == 0)
            {
                _byParent.Remove(_parentHash[block]);
            }
        }
    }

    /// <summary>
    /// The cached or held block after the prefix <paramref name="parentHash"/> whose first tokens agree longest
    /// with <paramref name="tokens"/> (at most <c>tokens.Length</c>, fewer than a whole block), or -1 when none
    /// agrees on its first token. Its keys and values for those positions depend only on the tokens up to them,
    /// so they are exactly the ones a prefill of <paramref name="tokens"/> would compute.
    /// </summary>
    public int FindPartial(ulong parentHash, ReadOnlySpan<int> tokens, out int matched)
    {
        matched = 0;
        var best = -1;
        if (!PrefixCaching || !_byParent.TryGetValue(parentHash, out var children))
        {
            return -1;
        }

        var limit = Math.Min(tokens.Length, BlockTokens - 1);
        foreach (var block in children)
        {
            var n = tokens[..limit].CommonPrefixLength(_tokens.AsSpan(block * BlockTokens, limit));
            if (n > matched)
            {
                (matched, best) = (n, block);
            }
        }

        return best;
    }

    /// <summary>The chain hash of a block: its tokens after the prefix whose hash is <paramref name="parentHash"/> (FNV-1a, then a 64-bit finalizer).</summary>
    public static ulong ChainHash(ulong parentHash, ReadOnlySpan<int> tokens)
    {
        var h = 0xCBF29CE484222325UL ^ parentHash;
        foreach (var t in tokens)
        {
            h = (h ^ (uint)t) * 0x100000001B3UL;
        }

        // SplitMix64's finalizer spreads FNV's weak low bits.
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }

    private void RemoveFromLru(int block)
    {
        if (_lruNodes[block] is { } node)
        {
            _lru.Remove(node);
            _lruNodes[block] = null;
        }
    }
}
