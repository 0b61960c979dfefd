namespace Alpaca.Inference.Backends;

/// <summary>
/// The KV slots of a backend as the scheduler sees them: a sequence claims a slot, the forward pass grows
/// its length as it writes positions, and freeing it makes room for the next request. Where the keys and
/// values live (native memory, device memory) is the backend's business.
/// </summary>
public interface IKvSlots
{
    /// <summary>Sequences that can be alive at once.</summary>
    int Slots { get; }

    /// <summary>Positions per sequence.</summary>
    int ContextLength { get; }

    /// <summary>Claims a free slot (length 0), or throws when all are in use.</summary>
    int Allocate();

    bool TryAllocate(out int slot);

    void Free(int slot);

    bool IsAllocated(int slot);

    /// <summary>Positions of the sequence in the slot that are filled.</summary>
    int Length(int slot);

    /// <summary>Forgets positions ≥ <paramref name="length"/>.</summary>
    void Truncate(int slot, int length);
}
