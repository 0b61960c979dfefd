using System.Runtime.CompilerServices;
using Alpaca.Inference.Kernels;

namespace Alpaca.Inference.Model;

/// <summary>
/// The storage of the paged KV cache: one pool of blocks of <see cref="BlockTokens"/> positions, laid out
/// [layer][block][kv_head][offset][head_dim] for keys and for values, in <see cref="Type"/>. Which
/// sequence holds which block is the <see cref="Backends.SlotTable"/>'s business; this class only encodes
/// rows in (<see cref="Store"/>) and decodes a sequence's rows out (<see cref="Gather"/>), so attention
/// runs on floats whatever the element type. Pages are committed on first write.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly NativeBuffer _keys;
    private readonly NativeBuffer _values;
    private readonly int _rowBytes;
    private readonly int _group;

    public KvCache(int layers, int blocks, int blockTokens, int kvHeads, int headDim, KvCacheType type = KvCacheType.F16)
    {
        if (blocks <= 0 || blockTokens <= 0)
        {
            throw new ArgumentException($"A KV cache needs at least one block of one position (blocks {blocks}, block tokens {blockTokens}).");
        }

        if (type == KvCacheType.Q8_0 && headDim % KvCacheTypes.Q8Group(headDim) != 0)
        {
            throw new ArgumentException($"A q8_0 KV cache needs a head dimension that is a multiple of 32 (it is {headDim}).");
        }

        Layers = layers;
        Blocks = blocks;
        BlockTokens = blockTokens;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Type = type;
        _rowBytes = KvCacheTypes.RowBytes(type, headDim);
        _group = KvCacheTypes.Q8Group(headDim);
        var bytes = (long)layers * blocks * kvHeads * blockTokens * _rowBytes;
        _keys = new NativeBuffer(bytes, zero: false);
        _values = new NativeBuffer(bytes, zero: false);
    }

    public int Layers { get; }

    public int Blocks { get; }

    public int BlockTokens { get; }

    public int KvHeads { get; }

    public int HeadDim { get; }

    public KvCacheType Type { get; }

    public long Bytes => _keys.Bytes + _values.Bytes;

    /// <summary>Keys and values of one position over all layers and KV heads.</summary>
    public long BytesPerToken => KvCacheTypes.BytesPerToken(Type, Layers, KvHeads, HeadDim);

    /// <summary>True when attention should round the query and the probabilities to fp16 as llama.cpp does with a non-f32 cache.</summary>
    public bool RoundsToHalf => Type != KvCacheType.F32;

    /// <summary>Encodes one position's key and value row of one KV head (head_dim floats each).</summary>
    public void Store(int layer, int block, int offset, int kvHead, float* key, float* value)
    {
        var row = Row(layer, block, offset, kvHead);
        Encode(_keys.Pointer + row, key);
        Encode(_values.Pointer + row, value);
    }

    /// <summary>
    /// Decodes positions 0..n-1 of a sequence (block table <paramref name="table"/>) for one KV head: keys
    /// transposed, dimension d of position p at <c>keys[d·stride + p]</c>, values at <c>values[p·head_dim + d]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gather(int layer, int[] table, int n, int kvHead, float* keys, int stride, float* values)
    {
        var hd = HeadDim;
        var b = BlockTokens;
        for (var start = 0; start < n; start += b)
        {
            var block = table[start / b];
            var count = Math.Min(b, n - start);
            for (var o = 0; o < count; o++)
            {
                var row = Row(layer, block, o, kvHead);
                var p = start + o;
                var v = values + ((long)p * hd);
                Decode(_keys.Pointer + row, v);
                for (var d = 0; d < hd; d++)
                {
                    keys[((long)d * stride) + p] = v[d];
                }

                Decode(_values.Pointer + row, v);
            }
        }
    }

    /// <summary>The first of a block's <see cref="BlockTokens"/> key rows of one KV head (contiguous, in <see cref="Type"/>).</summary>
    internal byte* KeyRows(int layer, int block, int kvHead) => _keys.Pointer + Row(layer, block, 0, kvHead);

    /// <summary>The first of a block's value rows of one KV head, as <see cref="KeyRows"/>.</summary>
    internal byte* ValueRows(int layer, int block, int kvHead) => _values.Pointer + Row(layer, block, 0, kvHead);

    /// <summary>One element as stored (decoded), for the plain reference attention.</summary>
    public float Key(int layer, int block, int offset, int kvHead, int d) => Element(_keys.Pointer + Row(layer, block, offset, kvHead), d);

    public float Value(int layer, int block, int offset, int kvHead, int d) => Element(_values.Pointer + Row(layer, block, offset, kvHead), d);

    /// <summary>Copies every layer's keys and values of one block into another (copy on write of a shared prefix block).</summary>
    public void CopyBlock(int from, int to)
    {
        var blockBytes = (long)KvHeads * BlockTokens * _rowBytes;
        for (var l = 0; l < Layers; l++)
        {
            var src = Row(l, from, 0, 0);
            var dst = Row(l, to, 0, 0);
            Buffer.MemoryCopy(_keys.Pointer + src, _keys.Pointer + dst, blockBytes, blockBytes);
            Buffer.MemoryCopy(_values.Pointer + src, _values.Pointer + dst, blockBytes, blockBytes);
        }
    }

    private long Row(int layer, int block, int offset, int kvHead) =>
        (((((long)layer * Blocks) + block) * KvHeads + kvHead) * BlockTokens + offset) * _rowBytes;

    private void Encode(byte* dst, float* x)
    {
        var hd = HeadDim;
        switch (Type)
        {
            case KvCacheType.F32:
                Buffer.MemoryCopy(x, dst, hd * sizeof(float), hd * sizeof(float));
                break;
            case KvCacheType.F16:
                var h = (ushort*)dst;
                for (var d = 0; d < hd; d++)
                {
                    h[d] = Fp16.ToBits(x[d]);
                }

                break;
            default:
                // ggml's quantize_row_q8_0: scale = max|x| / 127 (kept as fp16), q = round(x / scale).
                var q = (sbyte*)dst;
                var scales = (ushort*)(dst + hd);
                for (var g = 0; g < hd / _group; g++)
                {
                    var amax = 0f;
                    for (var i = 0; i < _group; i++)
                    {
                        amax = MathF.Max(amax, MathF.Abs(x[(g * _group) + i]));
                    }

                    var scale = amax / 127f;
                    var inv = scale != 0 ? 1f / scale : 0f;
                    for (var i = 0; i < _group; i++)
                    {
                        q[(g * _group) + i] = (sbyte)MathF.Round(x[(g * _group) + i] * inv);
                    }

                    scales[g] = Fp16.ToBits(scale);
                }

                break;
        }
    }

    private void Decode(byte* src, float* x)
    {
        var hd = HeadDim;
        switch (Type)
        {
            case KvCacheType.F32:
                Buffer.MemoryCopy(src, x, hd * sizeof(float), hd * sizeof(float));
                break;
            case KvCacheType.F16:
                var h = (ushort*)src;
                for (var d = 0; d < hd; d++)
                {
                    x[d] = HalfVectors.HalfToFloat(h[d]);
                }

                break;
            default:
                var q = (sbyte*)src;
                var scales = (ushort*)(src + hd);
                for (var d = 0; d < hd; d++)
                {
                    x[d] = q[d] * HalfVectors.HalfToFloat(scales[d / _group]);
                }

                break;
        }
    }

    private float Element(byte* row, int d) => Type switch
    {
        KvCacheType.F32 => ((float*)row)[d],
        KvCacheType.F16 => (float)BitConverter.UInt16BitsToHalf(((ushort*)row)[d]),
        _ => ((sbyte*)row)[d] * (float)BitConverter.UInt16BitsToHalf(((ushort*)(row + HeadDim))[d / _group]),
    };

    public void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}
