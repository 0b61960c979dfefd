using System.Buffers.Binary;
using System.Text;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Gguf;

public class GgufRoundTripTests
{
    private static readonly (string Key, GgufValue Value)[] EveryType =
    [
        ("u8", GgufValue.UInt8(200)),
        ("i8", GgufValue.Int8(-100)),
        ("u16", GgufValue.UInt16(60000)),
        ("i16", GgufValue.Int16(-30000)),
        ("u32", GgufValue.UInt32(4_000_000_000)),
        ("i32", GgufValue.Int32(-2_000_000_000)),
        ("f32", GgufValue.Float32(1e-5f)),
        ("bool.true", GgufValue.Bool(true)),
        ("bool.false", GgufValue.Bool(false)),
        ("string", GgufValue.String("▁Hello, wörld 🦙")),
        ("string.empty", GgufValue.String("")),
        ("u64", GgufValue.UInt64(ulong.MaxValue)),
        ("i64", GgufValue.Int64(long.MinValue)),
        ("f64", GgufValue.Float64(Math.PI)),
        ("arr.u8", GgufValue.Array(new byte[] { 1, 2, 255 })),
        ("arr.i8", GgufValue.Array(new sbyte[] { -1, 0, 127 })),
        ("arr.u16", GgufValue.Array(new ushort[] { 1, 65535 })),
        ("arr.i16", GgufValue.Array(new short[] { -32768, 5 })),
        ("arr.u32", GgufValue.Array(new uint[] { 7, uint.MaxValue })),
        ("arr.i32", GgufValue.Array(new[] { 1, 6, 3, -4 })),
        ("arr.f32", GgufValue.Array(new[] { 0f, -1.5f, float.MaxValue })),
        ("arr.bool", GgufValue.Array(new[] { true, false, true })),
        ("arr.string", GgufValue.Array(new[] { "<s>", "", "▁the", "<0x0A>" })),
        ("arr.u64", GgufValue.Array(new[] { 0UL, ulong.MaxValue })),
        ("arr.i64", GgufValue.Array(new[] { long.MinValue, 3L })),
        ("arr.f64", GgufValue.Array(new[] { 1e300, -0.0 })),
        ("arr.empty", GgufValue.Array(Array.Empty<int>())),
        ("arr.nested", GgufValue.Array([GgufValue.Array(new[] { 1, 2 }), GgufValue.Array(new[] { "a", "b" }), GgufValue.Array([GgufValue.Array(new[] { 1.5 })])])),
    ];

    [Theory]
    [InlineData(3u, 32u)]
    [InlineData(2u, 32u)]
    [InlineData(3u, 64u)]
    [InlineData(3u, 4096u)]
    public void Every_metadata_type_and_tensor_type_survives_write_and_read(uint version, uint alignment)
    {
        using var dir = new TempDir("gguf-rt");
        var path = dir.File("m.gguf");
        var w = new GgufWriter(alignment) { Version = version };
        foreach (var (k, v) in EveryType)
        {
            w.Metadata.Set(k, v);
        }

        var rng = new Random(1);
        var f32 = Enumerable.Range(0, 64 * 3).Select(_ => (float)rng.NextDouble()).ToArray();
        w.AddTensor("t.f32", [64, 3], GgmlType.F32, f32);
        w.AddTensor("t.f16", [64, 3], GgmlType.F16, f32);
        w.AddTensor("t.bf16", [64, 3], GgmlType.BF16, f32);
        w.AddTensor("t.q8_0", [64, 3], GgmlType.Q8_0, f32);
        w.AddTensor("t.q4_0", [64, 3], GgmlType.Q4_0, f32);
        w.AddTensor("t.scalar", [], GgmlType.F32, [42f]);
        w.AddTensor("t.4d", [32, 2, 2, 2], GgmlType.Q8_0, Enumerable.Range(0, 256).Select(i => i / 256f).ToArray());
        w.WriteTo(path);

        using var g = GgufFile.Open(path);
        Assert.Equal(version, g.Version);
        Assert.Equal(alignment, g.Alignment);
        Assert.Equal(0, g.DataOffset % alignment);
        var expectedKeys = EveryType.Select(e => e.Key).ToList();
        if (alignment != 32)
        {
            expectedKeys.Add("general.alignment");
        }

        Assert.Equal(expectedKeys, g.Metadata.Keys);
        foreach (var (k, v) in EveryType)
        {
            Assert.True(v.ValueEquals(g.Metadata[k]), $"{k}: wrote {v}, read {g.Metadata[k]}");
        }

        Assert.Equal(7, g.Tensors.Count);
        foreach (var t in g.Tensors)
        {
            Assert.Equal(0UL, t.Offset % alignment);
        }

        Assert.Equal(f32, g.ReadAsFloat32(g.GetTensor("t.f32")));
        Assert.Equal(Quantizer.Dequantize(GgmlType.Q4_0, Quantizer.Quantize(GgmlType.Q4_0, f32), f32.Length), g.ReadAsFloat32(g.GetTensor("t.q4_0")));
        Assert.Equal(Quantizer.Quantize(GgmlType.Q8_0, f32), g.GetTensorBytes(g.GetTensor("t.q8_0")).ToArray());
        var half = g.ReadAsFloat32(g.GetTensor("t.f16"));
        Assert.All(half.Zip(f32), p => Assert.True(Math.Abs(p.First - p.Second) <= Math.Abs(p.Second) / 1024));
        Assert.Equal(new long[] { 32, 2, 2, 2 }, g.GetTensor("t.4d").Shape);
        Assert.Equal(256, g.GetTensor("t.4d").ElementCount);
        Assert.Equal(8 * 34, g.GetTensor("t.4d").ByteSize);
        Assert.Equal(42f, g.ReadAsFloat32(g.GetTensor("t.scalar"))[0]);
    }

    [Fact]
    public unsafe void Tensor_pointers_are_aligned_into_the_mapping()
    {
        using var dir = new TempDir("gguf-ptr");
        var path = dir.File("m.gguf");
        File.WriteAllBytes(path, GgufTestFiles.Small());
        using var g = GgufFile.Open(path);
        var a = g.GetTensor("a.weight");
        var p = g.GetTensorPointer(a);
        Assert.Equal(0, (long)p % 32);
        Assert.Equal(3f, ((float*)p)[3]);
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(g.GetRowBytes(a, 0)[8..]));
        Assert.Equal(6f, BinaryPrimitives.ReadSingleLittleEndian(g.GetRowBytes(a, 1)[8..]));
        g.Dispose();
        Assert.Throws<ObjectDisposedException>(() => g.GetTensorBytes(a).ToArray());
    }

    [Fact]
    public void Writer_output_matches_the_hand_assembled_layout()
    {
        // One KV ("k" = u32 7) and one F32 tensor "t" of shape [2]: bytes spelled out from the spec.
        var w = new GgufWriter();
        w.Metadata.Set("k", GgufValue.UInt32(7));
        w.AddTensor("t", [2], GgmlType.F32, [1f, -2f]);
        var actual = GgufTestFiles.ToBytes(w);

        var e = new List<byte>();
        e.AddRange("GGUF"u8.ToArray());
        e.AddRange(BitConverter.GetBytes(3u));
        e.AddRange(BitConverter.GetBytes(1UL)); // tensors
        e.AddRange(BitConverter.GetBytes(1UL)); // kvs
        e.AddRange(BitConverter.GetBytes(1UL));
        e.Add((byte)'k');
        e.AddRange(BitConverter.GetBytes(4u)); // GGUF_TYPE_UINT32
        e.AddRange(BitConverter.GetBytes(7u));
        e.AddRange(BitConverter.GetBytes(1UL));
        e.Add((byte)'t');
        e.AddRange(BitConverter.GetBytes(1u)); // n_dims
        e.AddRange(BitConverter.GetBytes(2UL));
        e.AddRange(BitConverter.GetBytes(0u)); // F32
        e.AddRange(BitConverter.GetBytes(0UL)); // offset
        while (e.Count % 32 != 0)
        {
            e.Add(0);
        }

        e.AddRange(BitConverter.GetBytes(1f));
        e.AddRange(BitConverter.GetBytes(-2f));
        while (e.Count % 32 != 0)
        {
            e.Add(0);
        }

        Assert.Equal(e.ToArray(), actual);
    }

    [Fact]
    public void Metadata_accessors_convert_integers_and_reject_wrong_types()
    {
        using var g = GgufFile.FromBytes(GgufTestFiles.Small());
        Assert.Equal(2, g.Metadata.GetInteger("llama.block_count"));
        Assert.Equal(2u, g.Metadata["llama.block_count"].AsUInt32());
        Assert.Throws<InvalidCastException>(() => g.Metadata["llama.block_count"].AsInt32());
        Assert.Equal(new[] { "<unk>", "a", "b" }, g.Metadata.GetArray<string>("tokenizer.ggml.tokens"));
        Assert.Throws<InvalidCastException>(() => g.Metadata.GetArray<int>("tokenizer.ggml.tokens"));
        Assert.Equal("llama", g.Architecture);
        Assert.Null(g.Metadata.GetString("missing"));
        Assert.False(g.TryGetTensor("missing", out _));
        Assert.Equal(Encoding.UTF8.GetByteCount("x"), g.Metadata["nested"].AsArray<GgufValue>()[1].AsArray<string>()[0].Length);
    }

    [Fact]
    public void A_failed_write_leaves_no_file_behind()
    {
        using var dir = new TempDir("gguf-fail");
        var w = new GgufWriter();
        w.AddTensor("ok", [4], GgmlType.F32, [1f, 2f, 3f, 4f]);
        w.AddTensor("short", [8], GgmlType.F32, stream => stream.Write(new byte[4])); // writes 4 of 32 bytes
        var e = Assert.Throws<InvalidOperationException>(() => w.WriteTo(dir.File("m.gguf")));
        Assert.Contains("'short'", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
