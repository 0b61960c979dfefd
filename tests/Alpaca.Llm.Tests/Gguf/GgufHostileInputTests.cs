using Alpaca.Llm.Gguf;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Gguf;

/// <summary>Each corrupt file must fail with a GgufFormatException naming the bad field (and never crash or allocate wildly).</summary>
public class GgufHostileInputTests
{
    private static GgufFormatException Fails(byte[] bytes) =>
        Assert.Throws<GgufFormatException>(() => GgufFile.FromBytes(bytes, "bad.gguf").Dispose());

    [Fact]
    public void Wrong_magic()
    {
        var e = Fails("GGML"u8.ToArray().Concat(new byte[20]).ToArray());
        Assert.Equal("magic", e.Field);
        Assert.Equal(0, e.Offset);
        Assert.Contains("bad.gguf", e.Message);
    }

    [Fact]
    public void Empty_file_names_the_magic()
    {
        using var dir = new TempDir("gguf-empty");
        File.WriteAllBytes(dir.File("e.gguf"), []);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(dir.File("e.gguf")));
        Assert.Equal("magic", e.Field);
        Assert.Contains("e.gguf", e.Message);
    }

    [Theory]
    [InlineData(1u, "obsolete")]
    [InlineData(4u, "unsupported")]
    [InlineData(0x03000000u, "big-endian")]
    public void Unsupported_versions(uint version, string words)
    {
        var e = Fails(RawGguf.Header(0, 0, version).ToArray());
        Assert.Equal("version", e.Field);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void Absurd_tensor_count_is_rejected_before_allocating()
    {
        var e = Fails(RawGguf.Header(ulong.MaxValue / 2, 0).ToArray());
        Assert.Equal("tensor_count", e.Field);
        Assert.Equal(8, e.Offset);
    }

    [Fact]
    public void Absurd_kv_count_is_rejected_before_allocating()
    {
        var e = Fails(RawGguf.Header(0, 1_000_000_000).Zeros(64).ToArray());
        Assert.Equal("metadata_kv_count", e.Field);
    }

    [Fact]
    public void String_length_past_the_end()
    {
        var bytes = RawGguf.Header(0, 1).U64(1UL << 40).Zeros(8).ToArray();
        var e = Fails(bytes);
        Assert.Equal("kv[0].key.length", e.Field);
        Assert.Equal(24, e.Offset);
    }

    [Fact]
    public void Unknown_value_type()
    {
        var e = Fails(RawGguf.Header(0, 1).Str("general.x").U32(13).U32(0).ToArray());
        Assert.Equal("kv[\"general.x\"].type", e.Field);
        Assert.Contains("13", e.Message);
    }

    [Fact]
    public void Array_count_larger_than_the_file()
    {
        var e = Fails(RawGguf.Header(0, 1).Str("a").U32(9).U32(6).U64(1UL << 50).Zeros(16).ToArray());
        Assert.Equal("kv[\"a\"].value.count", e.Field);
    }

    [Fact]
    public void Array_of_strings_with_lying_count()
    {
        // Claims 3 strings, holds 1 and then ends.
        var e = Fails(RawGguf.Header(0, 1).Str("tokens").U32(9).U32(8).U64(3).Str("a").ToArray());
        Assert.StartsWith("kv[\"tokens\"].value", e.Field);
    }

    [Fact]
    public void Deeply_nested_arrays_are_refused()
    {
        var raw = RawGguf.Header(0, 1).Str("deep").U32(9);
        for (var i = 0; i < 20; i++)
        {
            raw.U32(9).U64(1);
        }

        raw.U32(4).U64(0);
        var e = Fails(raw.ToArray());
        Assert.Contains("nested", e.Message);
    }

    [Fact]
    public void Bool_other_than_zero_or_one()
    {
        var e = Fails(RawGguf.Header(0, 1).Str("b").U32(7).U8(2).ToArray());
        Assert.Equal("kv[\"b\"].value", e.Field);
    }

    [Fact]
    public void Duplicate_metadata_key()
    {
        var e = Fails(RawGguf.Header(0, 2).KvU32("k", 1).KvU32("k", 2).ToArray());
        Assert.Equal("kv[1].key", e.Field);
        Assert.Contains("duplicate", e.Message);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(48u)]
    public void Alignment_not_a_power_of_two(uint alignment)
    {
        var e = Fails(RawGguf.Header(0, 1).KvU32("general.alignment", alignment).ToArray());
        Assert.Contains("general.alignment", e.Field);
    }

    [Fact]
    public void Unknown_ggml_type()
    {
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [32], 4, 0).PadTo(32).Zeros(128).ToArray());
        Assert.Equal("tensor_infos[0] ('w').type", e.Field);
        Assert.Contains("unknown ggml type id 4", e.Message);
    }

    [Fact]
    public void Too_many_dimensions()
    {
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [1, 1, 1, 1, 1], 0, 0).PadTo(32).Zeros(32).ToArray());
        Assert.Equal("tensor_infos[0] ('w').n_dims", e.Field);
    }

    [Fact]
    public void Dimension_product_overflow()
    {
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [1UL << 32, 1UL << 32], 0, 0).PadTo(32).Zeros(32).ToArray());
        Assert.Equal("tensor_infos[0] ('w').ne[1]", e.Field);
        Assert.Contains("overflows", e.Message);
    }

    [Fact]
    public void Negative_dimension()
    {
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [ulong.MaxValue], 0, 0).PadTo(32).Zeros(32).ToArray());
        Assert.Equal("tensor_infos[0] ('w').ne[0]", e.Field);
    }

    [Fact]
    public void Byte_size_overflow_after_block_division()
    {
        // 2^62 F32 elements: the element count fits int64, the byte count (×4) does not.
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [1UL << 62], 0, 0).PadTo(32).Zeros(32).ToArray());
        Assert.Contains("overflows", e.Message);
    }

    [Fact]
    public void Row_not_a_whole_number_of_blocks()
    {
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [33], 8, 0).PadTo(32).Zeros(64).ToArray());
        Assert.Equal("tensor_infos[0] ('w').ne[0]", e.Field);
        Assert.Contains("block size 32", e.Message);
    }

    [Fact]
    public void Tensor_data_past_the_end()
    {
        // 16 F32 = 64 bytes declared, 32 present.
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [16], 0, 0).PadTo(32).Zeros(32).ToArray());
        Assert.Equal("tensor 'w'.offset", e.Field);
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void Offset_near_ulong_max_does_not_wrap()
    {
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [8], 0, ulong.MaxValue - 31).PadTo(32).Zeros(64).ToArray());
        Assert.Equal("tensor 'w'.offset", e.Field);
    }

    [Fact]
    public void Misaligned_offset()
    {
        var e = Fails(RawGguf.Header(1, 0).Tensor("w", [8], 0, 4).PadTo(32).Zeros(64).ToArray());
        Assert.Equal("tensor_infos[0] ('w').offset", e.Field);
        Assert.Contains("alignment", e.Message);
    }

    [Fact]
    public void Overlapping_tensors()
    {
        var e = Fails(RawGguf.Header(2, 0).Tensor("a", [16], 0, 0).Tensor("b", [8], 0, 32).PadTo(32).Zeros(128).ToArray());
        Assert.Equal("tensor 'b'.offset", e.Field);
        Assert.Contains("overlaps tensor 'a'", e.Message);
    }

    [Fact]
    public void Duplicate_tensor_names()
    {
        var e = Fails(RawGguf.Header(2, 0).Tensor("a", [8], 0, 0).Tensor("a", [8], 0, 32).PadTo(32).Zeros(64).ToArray());
        Assert.Equal("tensor_infos[1].name", e.Field);
    }

    [Fact]
    public void Invalid_utf8_in_a_key()
    {
        var e = Fails(RawGguf.Header(0, 1).U64(2).Bytes([0xC3, 0x28]).U32(4).U32(1).ToArray());
        Assert.Equal("kv[0].key", e.Field);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void Every_truncation_of_a_valid_file_fails_cleanly()
    {
        var good = GgufTestFiles.Small();
        using (GgufFile.FromBytes(good))
        {
        }

        // Cutting anywhere before the last tensor's data must be detected; cutting only trailing padding may load.
        using var full = GgufFile.FromBytes(good);
        var lastDataEnd = full.DataOffset + full.Tensors.Max(t => (long)t.Offset + t.ByteSize);
        for (var n = 0; n < good.Length; n++)
        {
            if (n >= lastDataEnd)
            {
                using (GgufFile.FromBytes(good.AsSpan(0, n)))
                {
                }

                continue;
            }

            var e = Assert.Throws<GgufFormatException>(() => GgufFile.FromBytes(good.AsSpan(0, n)).Dispose());
            Assert.False(string.IsNullOrEmpty(e.Field));
            Assert.InRange(e.Offset, 0, good.Length);
        }
    }
}
