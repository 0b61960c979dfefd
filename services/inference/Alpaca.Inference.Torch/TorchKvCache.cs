using Alpaca.Inference.Backends;
using static TorchSharp.torch;

namespace Alpaca.Inference.Torch;

/// <summary>
/// Keys and values of every layer for every slot, preallocated once in device memory as
/// [slots, kv_heads, context, head_dim] per layer, in the model's dtype: a step writes its tokens' rows in
/// place (index_put_) and attention reads a narrowed view, so decoding never allocates cache memory.
/// Slot bookkeeping is the shared <see cref="SlotTable"/>.
/// </summary>
public sealed class TorchKvCache : IDisposable
{
    public TorchKvCache(int layers, int slots, int contextLength, int kvHeads, int headDim, ScalarType dtype, Device device)
    {
        Table = new SlotTable(slots, contextLength);
        Keys = new Tensor[layers];
        Values = new Tensor[layers];
        for (var l = 0; l < layers; l++)
        {
            // Zeroed: attention over a slot's unwritten positions is masked, but masked garbage could be NaN.
            Keys[l] = zeros([slots, kvHeads, contextLength, headDim], dtype: dtype, device: device).DetachFromDisposeScope();
            Values[l] = zeros([slots, kvHeads, contextLength, headDim], dtype: dtype, device: device).DetachFromDisposeScope();
        }

        Bytes = 2L * layers * slots * kvHeads * contextLength * headDim * TorchBackendOptions.Bytes(dtype);
    }

    public SlotTable Table { get; }

    /// <summary>Per layer [slots, kv_heads, context, head_dim].</summary>
    public Tensor[] Keys { get; }

    public Tensor[] Values { get; }

    public long Bytes { get; }

    /// <summary>What a cache of this shape takes, for the memory budget before anything is allocated.</summary>
    public static long EstimateBytes(int layers, int slots, int contextLength, int kvHeads, int headDim, ScalarType dtype) =>
        2L * layers * slots * kvHeads * contextLength * headDim * TorchBackendOptions.Bytes(dtype);

    public void Dispose()
    {
        foreach (var t in Keys.Concat(Values))
        {
            t.Dispose();
        }
    }
}
