using Alpaca.Inference.Backends;
using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model;

/// <summary>
/// Keys and values of every layer for up to <see cref="Slots"/> sequences. Values are rounded to fp16 as
/// llama.cpp's default fp16 cache stores them (so our attention rounds where llama.cpp's does) but kept
/// as floats, so attention never converts: twice the memory of an fp16 cache for no conversion work.
/// Keys are stored transposed per KV head, [layer][slot][kv_head][head_dim][position], so the scores of
/// 16 positions come out of one vector of FMAs with no horizontal sums; values are
/// [layer][slot][kv_head][position][head_dim], so the weighted sum is whole-row FMAs. A sequence owns a slot from <see cref="Allocate"/> to
/// <see cref="Free"/>; its length grows as the forward pass writes positions (a batch may also restart a
/// sequence at an earlier position, which truncates it there). Pages are committed on first write.
/// </summary>
public sealed unsafe class KvCache : IKvSlots, IDisposable
{
    private readonly NativeBuffer _keys;
    private readonly NativeBuffer _values;
    private readonly int[] _lengths;
    private readonly bool[] _inUse;
    private readonly object _gate = new();

    public KvCache(int layers, int slots, int contextLength, int kvHeads, int headDim)
    {
        if (slots <= 0 || contextLength <= 0)
        {
            throw new ArgumentException($"A KV cache needs at least one slot and one position (slots {slots}, context {contextLength}).");
        }

        Layers = layers;
        Slots = slots;
        ContextLength = contextLength;
        KvHeads = kvHeads;
        HeadDim = headDim;
        PositionStride = (contextLength + 15) / 16 * 16;
        var floats = (long)layers * slots * kvHeads * headDim * PositionStride;
        _keys = new NativeBuffer(floats * sizeof(float), zero: false);
        _values = new NativeBuffer(floats * sizeof(float), zero: false);
        _lengths = new int[slots];
        _inUse = new bool[slots];
    }

    public int Layers { get; }

    public int Slots { get; }

    public int ContextLength { get; }

    public int KvHeads { get; }

    public int HeadDim { get; }

    /// <summary>Positions per key row: the context length rounded up to 16 (whole vectors of scores).</summary>
    public int PositionStride { get; }

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

    /// <summary>Keys of one KV head, transposed: dimension d of position p at <c>[d·PositionStride + p]</c>.</summary>
    public float* Keys(int layer, int slot, int kvHead) => _keys.As<float>() + HeadOffset(layer, slot, kvHead);

    /// <summary>Values of one KV head: dimension d of position p at <c>[p·HeadDim + d]</c>.</summary>
    public float* Values(int layer, int slot, int kvHead) => _values.As<float>() + HeadOffset(layer, slot, kvHead);

    private long HeadOffset(int layer, int slot, int kvHead) => (((long)layer * Slots + slot) * KvHeads + kvHead) * HeadDim * PositionStride;

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
