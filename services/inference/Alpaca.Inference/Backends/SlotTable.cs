using Alpaca.Inference.Model;

namespace Alpaca.Inference.Backends;

/// <summary>
/// The one owner of KV bookkeeping for a backend: which sequence slots are in use, how many positions
/// each holds, and — paged — which blocks of the <see cref="KvBlockPool"/> hold them (a block table per
/// sequence: position p lives in block <c>Table(slot)[p / BlockTokens]</c> at offset <c>p % BlockTokens</c>).
/// Where keys and values live (the CPU engine's <see cref="KvCache"/>, device tensors) is the backend's.
/// A contiguous backend (the torch one) is the special case of one block of a whole context per slot.
/// <para>With prefix caching, each full block a forward pass commits is registered under the chain hash of
/// its tokens and its prefix; <see cref="AttachPrefix"/> gives a new sequence the longest cached run of
/// whole blocks of its prompt, so only the rest is prefilled. A shared block is never written: a restart
/// inside one copies it first (copy on write, through <see cref="BlockCopier"/>).</para>
/// Claims and frees are thread-safe; the rest runs on the decode loop.
/// </summary>
public sealed class SlotTable : IKvSlots
{
    private readonly int[] _lengths;
    private readonly bool[] _inUse;
    private readonly int[][] _tables;
    private readonly int[] _blockCounts;
    private readonly ulong[][] _chains;
    private readonly int[][] _tokens;
    private readonly object _gate = new();

    /// <summary>Contiguous: one block of the whole context per slot, no prefix caching.</summary>
    public SlotTable(int slots, int contextLength)
        : this(slots, contextLength, Math.Max(1, contextLength), Math.Max(1, slots), prefixCaching: false)
    {
    }

    /// <summary>Paged: <paramref name="blocks"/> blocks of <paramref name="blockTokens"/> positions shared by <paramref name="slots"/> sequences.</summary>
    public SlotTable(int slots, int contextLength, int blockTokens, int blocks, bool prefixCaching)
    {
        if (slots <= 0 || contextLength <= 0)
        {
            throw new ArgumentException($"A KV cache needs at least one slot and one position (slots {slots}, context {contextLength}).");
        }

        Slots = slots;
        ContextLength = contextLength;
        Pool = new KvBlockPool(blocks, blockTokens, prefixCaching);
        BlocksPerSequence = (contextLength + blockTokens - 1) / blockTokens;
        _lengths = new int[slots];
        _inUse = new bool[slots];
        _blockCounts = new int[slots];
        _tables = new int[slots][];
        _chains = new ulong[slots][];
        _tokens = new int[slots][];
        for (var s = 0; s < slots; s++)
        {
            _tables[s] = new int[BlocksPerSequence];
            _chains[s] = prefixCaching ? new ulong[BlocksPerSequence] : [];
            _tokens[s] = prefixCaching ? new int[contextLength] : [];
        }
    }

    public int Slots { get; }

    public int ContextLength { get; }

    public KvBlockPool Pool { get; }

    public int BlockTokens => Pool.BlockTokens;

    public int Blocks => Pool.Blocks;

    public int FreeBlocks
    {
        get
        {
            lock (_gate)
            {
                return Pool.Available;
            }
        }
    }

    public bool PrefixCaching => Pool.PrefixCaching;

    /// <summary>Blocks one sequence of the whole context needs.</summary>
    public int BlocksPerSequence { get; }

    /// <summary>Copies a block's keys and values into another (copy on write); set by the storage owner.</summary>
    public Action<int, int>? BlockCopier { get; set; }

    public int Allocate() => TryAllocate(out var slot) ? slot : throw new InvalidOperationException($"All {Slots} KV cache slots are in use.");

    public bool TryAllocate(out int slot)
    {
        lock (_gate)
        {
            for (var s = 0; s < Slots; s++)
            {
                if (!_inUse[s])
                {
                    _inUse[s] = true;
                    _lengths[s] = 0;
                    _blockCounts[s] = 0;
                    slot = s;
                    return true;
                }
            }
        }

        slot = -1;
        return false;
    }

    public void Free(int slot)
    {
        lock (_gate)
        {
            CheckSlot(slot);
            ReleaseFrom(slot, 0);
            _inUse[slot] = false;
            _lengths[slot] = 0;
        }
    }

    public bool IsAllocated(int slot) => (uint)slot < (uint)Slots && _inUse[slot];

    public int Length(int slot)
    {
        CheckSlot(slot);
        return _lengths[slot];
    }

    /// <summary>The sequence's block table (the first <see cref="BlockCount"/> entries are valid).</summary>
    public int[] Table(int slot) => _tables[slot];

    public int BlockCount(int slot) => _blockCounts[slot];

    public void Truncate(int slot, int length)
    {
        lock (_gate)
        {
            CheckSlot(slot);
            if (length < 0 || length > _lengths[slot])
            {
                throw new ArgumentOutOfRangeException(nameof(length), length, $"Slot {slot} holds {_lengths[slot]} positions.");
            }

            TruncateLocked(slot, length);
        }
    }

    public bool TryReserve(int slot, int length)
    {
        lock (_gate)
        {
            CheckSlot(slot);
            var need = BlocksFor(Math.Min(length, ContextLength)) - _blockCounts[slot];
            if (need > Pool.Available)
            {
                return false;
            }

            Grow(slot, need);
            return true;
        }
    }

    public int AttachPrefix(int slot, IReadOnlyList<int> tokens, int maxTokens)
    {
        lock (_gate)
        {
            CheckSlot(slot);
            if (!PrefixCaching || _lengths[slot] != 0 || _blockCounts[slot] != 0)
            {
                return 0;
            }

            var b = BlockTokens;
            var chunk = new int[b];
            var parent = 0UL;
            var i = 0;
            for (; (i + 1) * b <= Math.Min(maxTokens, tokens.Count); i++)
            {
                for (var j = 0; j < b; j++)
                {
                    chunk[j] = tokens[(i * b) + j];
                }

                var hash = KvBlockPool.ChainHash(parent, chunk);
                var block = Pool.Find(hash, parent, chunk);
                if (block < 0)
                {
                    break;
                }

                Pool.Retain(block);
                _tables[slot][i] = block;
                _chains[slot][i] = hash;
                chunk.CopyTo(_tokens[slot].AsSpan(i * b));
                parent = hash;
            }

            _blockCounts[slot] = i;
            _lengths[slot] = i * b;
            return (i * b) + AttachPartial(slot, tokens, Math.Min(maxTokens, tokens.Count) - (i * b), parent);
        }
    }

    // After the whole blocks: a cached block that begins with the prompt's next tokens but continues
    // differently (the Alpaca preamble ends mid-block, the instruction follows) is copied into a block of the
    // sequence's own — the sequence writes the rest of it — and its matching positions are kept.
    private int AttachPartial(int slot, IReadOnlyList<int> tokens, int remaining, ulong parent)
    {
        var b = BlockTokens;
        var i = _blockCounts[slot];
        if (remaining <= 0 || BlockCopier is null || i >= BlocksPerSequence)
        {
            return 0;
        }

        var chunk = new int[Math.Min(remaining, b)];
        for (var j = 0; j < chunk.Length; j++)
        {
            chunk[j] = tokens[(i * b) + j];
        }

        var source = Pool.FindPartial(parent, chunk, out var matched);
        if (source < 0)
        {
            return 0;
        }

        // Held while a block is taken, so the eviction that may make room cannot pick the source itself.
        Pool.Retain(source);
        var fresh = Pool.Take();
        if (fresh >= 0)
        {
            BlockCopier(source, fresh);
        }

        Pool.Release(source);
        if (fresh < 0)
        {
            return 0;
        }

        _tables[slot][i] = fresh;
        chunk.AsSpan(0, matched).CopyTo(_tokens[slot].AsSpan(i * b));
        _blockCounts[slot] = i + 1;
        _lengths[slot] += matched;
        return matched;
    }

    /// <summary>
    /// Before a forward pass writes a validated batch: truncates each sequence the batch restarts and gives
    /// every sequence the blocks its new positions need. Throws, before changing anything, when the pool
    /// cannot supply them (a scheduler reserves ahead with <see cref="TryReserve"/> and preempts instead).
    /// </summary>
    public void Prepare(Batch batch)
    {
        lock (_gate)
        {
            Span<int> first = stackalloc int[Slots];
            Span<int> last = stackalloc int[Slots];
            first.Fill(-1);
            for (var i = 0; i < batch.Count; i++)
            {
                var s = batch.Sequences[i];
                if (first[s] < 0)
                {
                    first[s] = batch.Positions[i];
                }

                last[s] = batch.Positions[i];
            }

            var need = 0;
            for (var s = 0; s < Slots; s++)
            {
                if (first[s] >= 0)
                {
                    var kept = first[s] < _lengths[s] ? BlocksFor(first[s]) : _blockCounts[s];
                    need += Math.Max(0, BlocksFor(last[s] + 1) - kept) + (NeedsCopy(s, first[s]) ? 1 : 0);
                }
            }

            if (need > Pool.Available)
            {
                throw new InvalidOperationException($"The KV cache has {Pool.Available} free blocks of {BlockTokens} positions; this batch needs {need}.");
            }

            for (var s = 0; s < Slots; s++)
            {
                if (first[s] >= 0)
                {
                    if (first[s] < _lengths[s])
                    {
                        TruncateLocked(s, first[s]);
                    }

                    Grow(s, BlocksFor(last[s] + 1) - _blockCounts[s]);
                }
            }
        }
    }

    /// <summary>After a forward pass wrote <paramref name="token"/> at <paramref name="position"/>: the sequence grows to it, and a block it fills joins the prefix cache.</summary>
    public void Commit(int slot, int position, int token)
    {
        _lengths[slot] = position + 1;
        if (!PrefixCaching)
        {
            return;
        }

        var tokens = _tokens[slot];
        tokens[position] = token;
        var b = BlockTokens;
        if ((position + 1) % b == 0)
        {
            var i = position / b;
            var parent = i > 0 ? _chains[slot][i - 1] : 0UL;
            var span = tokens.AsSpan(i * b, b);
            var hash = KvBlockPool.ChainHash(parent, span);
            _chains[slot][i] = hash;
            lock (_gate)
            {
                Pool.Register(_tables[slot][i], hash, parent, span);
            }
        }
    }

    /// <summary>Called by a contiguous backend's forward pass once a token at <c>length - 1</c> is written.</summary>
    public void SetLength(int slot, int length) => _lengths[slot] = length;

    private int BlocksFor(int positions) => (positions + BlockTokens - 1) / BlockTokens;

    // A restart at `length` rewrites the block holding it: a shared cached block must be copied first.
    private bool NeedsCopy(int slot, int length) =>
        length < _lengths[slot] && length % BlockTokens != 0 && Pool.IsRegistered(_tables[slot][length / BlockTokens]) && Pool.References(_tables[slot][length / BlockTokens]) > 1;

    private void TruncateLocked(int slot, int length)
    {
        var copy = NeedsCopy(slot, length);
        ReleaseFrom(slot, BlocksFor(length));
        _lengths[slot] = length;
        if (length % BlockTokens == 0)
        {
            return;
        }

        // The block now partly kept will be rewritten past `length`: it no longer holds its prefix.
        var i = length / BlockTokens;
        var block = _tables[slot][i];
        if (copy)
        {
            var fresh = Pool.Take();
            if (fresh < 0)
            {
                throw new InvalidOperationException("No free KV block to copy a shared block into.");
            }

            (BlockCopier ?? throw new InvalidOperationException("This KV cache cannot copy blocks."))(block, fresh);
            Pool.Release(block);
            _tables[slot][i] = fresh;
        }
        else
        {
            Pool.Unregister(block);
        }
    }

    private void Grow(int slot, int blocks)
    {
        for (var k = 0; k < blocks; k++)
        {
            _tables[slot][_blockCounts[slot]++] = Pool.Take();
        }
    }

    // Tail first, so a released sequence's last blocks are the first evicted and its prefix lives longest.
    private void ReleaseFrom(int slot, int keep)
    {
        for (var i = _blockCounts[slot] - 1; i >= keep; i--)
        {
            Pool.Release(_tables[slot][i]);
        }

        _blockCounts[slot] = Math.Min(_blockCounts[slot], keep);
    }

    private void CheckSlot(int slot)
    {
        if (!IsAllocated(slot))
        {
            throw new ArgumentException($"KV cache slot {slot} is not allocated.", nameof(slot));
        }
    }
}
