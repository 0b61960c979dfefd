namespace Alpaca.Inference.Backends;

/// <summary>
/// The KV cache of a backend as the scheduler sees them: a sequence claims a slot, gets blocks of
/// <see cref="BlockTokens"/> positions from one pool as it grows (<see cref="TryReserve"/>), may start
/// from a cached prefix (<see cref="AttachPrefix"/>), and freeing it returns its blocks. Where the keys
/// and values live (native memory, device memory) is the backend's business; a contiguous cache is one
/// block of a whole context per slot. <see cref="SlotTable"/> is the implementation.
/// </summary>
public interface IKvSlots
{
    /// <summary>Sequences that can be alive at once.</summary>
    int Slots { get; }

    /// <summary>Positions per sequence.</summary>
    int ContextLength { get; }

    /// <summary>Positions per block.</summary>
    int BlockTokens { get; }

    /// <summary>Blocks in the pool.</summary>
    int Blocks { get; }

    /// <summary>Blocks a sequence can get now (free, or cached and evictable).</summary>
    int FreeBlocks { get; }

    /// <summary>True when full blocks are kept for reuse by later sequences with the same prefix.</summary>
    bool PrefixCaching { get; }

    /// <summary>Claims a free slot (length 0, no blocks), or throws when all are in use.</summary>
    int Allocate();

    bool TryAllocate(out int slot);

    /// <summary>Frees the slot and releases its blocks (full ones stay cached for reuse).</summary>
    void Free(int slot);

    bool IsAllocated(int slot);

    /// <summary>Positions of the sequence in the slot that are filled.</summary>
    int Length(int slot);

    /// <summary>Forgets positions ≥ <paramref name="length"/>.</summary>
    void Truncate(int slot, int length);

    /// <summary>Gives the sequence blocks for positions below <paramref name="length"/>; false (taking none) when the pool has too few.</summary>
    bool TryReserve(int slot, int length);

    /// <summary>
    /// For an empty sequence: attaches the longest run of cached whole blocks that begins
    /// <paramref name="tokens"/> and covers at most <paramref name="maxTokens"/> of them; returns the
    /// positions it now holds (0 without prefix caching or a hit).
    /// </summary>
    int AttachPrefix(int slot, IReadOnlyList<int> tokens, int maxTokens);
}
