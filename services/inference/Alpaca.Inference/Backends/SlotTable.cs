namespace Alpaca.Inference.Backends;

/// <summary>
/// Slot bookkeeping for a backend that keeps its keys and values elsewhere (device tensors): which slots
/// are in use and how many positions each holds. Thread-safe claims and frees; lengths are written by the
/// forward pass on the decode loop.
/// </summary>
public sealed class SlotTable(int slots, int contextLength) : IKvSlots
{
    private readonly int[] _lengths = new int[CheckSlots(slots, contextLength)];
    private readonly bool[] _inUse = new bool[slots];
    private readonly object _gate = new();

    public int Slots { get; } = slots;

    public int ContextLength { get; } = contextLength;

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

    public void Truncate(int slot, int length)
    {
        CheckSlot(slot);
        if (length < 0 || length > _lengths[slot])
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Slot {slot} holds {_lengths[slot]} positions.");
        }

        _lengths[slot] = length;
    }

    /// <summary>Called by the forward pass once a token at <c>length - 1</c> is written.</summary>
    public void SetLength(int slot, int length) => _lengths[slot] = length;

    private void CheckSlot(int slot)
    {
        if (!IsAllocated(slot))
        {
            throw new ArgumentException($"KV cache slot {slot} is not allocated.", nameof(slot));
        }
    }

    private static int CheckSlots(int slots, int contextLength) =>
        slots > 0 && contextLength > 0 ? slots : throw new ArgumentException($"A KV cache needs at least one slot and one position (slots {slots}, context {contextLength}).");
}
