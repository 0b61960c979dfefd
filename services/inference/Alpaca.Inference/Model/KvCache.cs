using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model;

/// <summary>
/// Keys and values of every layer for up to <see cref="Slots"/> sequences, fp16 (llama.cpp's default
/// cache type, so our attention rounds exactly where llama.cpp's does; half the memory of float32), laid
/// out [layer][slot][position][kv_dim]. A sequence owns a slot from <see cref="Allocate"/> to
/// <see cref="Free"/>; its length grows as the forward pass writes positions (a batch may also restart a
/// sequence at an earlier position, which truncates it there). Pages are committed on first write.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly NativeBuffer _keys;
    private readonly NativeBuffer _values;
    private readonly int[] _lengths;
    private readonly bool[] _inUse;
    private readonly object _gate = new();

    public KvCache(int layers, int slots, int contextLength, int kvDim)
    {
        if (slots <= 0 || contextLength <= 0)
        {
            throw new ArgumentException($"A KV cache needs at least one slot and one position (slots {slots}, context {contextLength}).");
        }

        Layers = layers;
        Slots = slots;
        ContextLength = contextLength;
        KvDim = kvDim;
        var floats = (long)layers * slots * contextLength * kvDim;
        _keys = new NativeBuffer(floats * sizeof(ushort), zero: false);
        _values = new NativeBuffer(floats * sizeof(ushort), zero: false);
        _lengths = new int[slots];
        _inUse = new bool[slots];
    }

    public int Layers { get; }

    public int Slots { get; }

    public int ContextLength { get; }

    public int KvDim { get; }

    public long Bytes => _keys.Bytes + _values.Bytes;

    /// <summary>Claims a free slot (length 0), or throws when all are in use.</summary>
    public int Allocate()
    {
        lock (_gate)
        {
            for (var s = 0; s < Slots; s++)
            {
                if (!_inUse[s])
                {
                    _inUse[s] = true;
                    _lengths[s] = 0;
                    return s;
                }
            }
        }

        throw new InvalidOperationException($"All {Slots} KV cache slots are in use.");
    }

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

    /// <summary>Positions of the sequence in the slot that are filled.</summary>
    public int Length(int slot)
    {
        CheckSlot(slot);
        return _lengths[slot];
    }

    /// <summary>Forgets positions ≥ <paramref name="length"/>.</summary>
    public void Truncate(int slot, int length)
    {
        CheckSlot(slot);
        if (length < 0 || length > _lengths[slot])
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Slot {slot} holds {_lengths[slot]} positions.");
        }

        _lengths[slot] = length;
    }

    internal void SetLength(int slot, int length) => _lengths[slot] = length;

    /// <summary>Keys of one layer and slot: position p at <c>+ p·KvDim</c>.</summary>
    public ushort* Keys(int layer, int slot) => _keys.As<ushort>() + ((long)layer * Slots + slot) * ContextLength * KvDim;

    public ushort* Values(int layer, int slot) => _values.As<ushort>() + ((long)layer * Slots + slot) * ContextLength * KvDim;

    private void CheckSlot(int slot)
    {
        if (!IsAllocated(slot))
        {
            throw new ArgumentException($"KV cache slot {slot} is not allocated.", nameof(slot));
        }
    }

    public void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}
