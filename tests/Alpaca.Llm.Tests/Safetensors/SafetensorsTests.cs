using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Safetensors;

public class SafetensorsTests
{
    private static readonly float[] Values = [1f, -2.5f, 3.140625f, 0f, 65504f, -1e-3f];

    [Fact]
    public void F32_F16_BF16_round_trip()
    {
        using var dir = new TempDir("st");
        var w = new SafetensorsWriter();
        w.Add("f32", SafetensorsDType.F32, [2, 3], MemoryMarshal.AsBytes(Values.AsSpan()).ToArray());
        w.Add("f16", SafetensorsDType.F16, [3, 2], MemoryMarshal.AsBytes(Values.Select(HalfConverter.FloatToHalf).ToArray().AsSpan()).ToArray());
        w.Add("bf16", SafetensorsDType.BF16, [6], MemoryMarshal.AsBytes(Values.Select(HalfConverter.FloatToBf16).ToArray().AsSpan()).ToArray());
        w.Add("empty", SafetensorsDType.F32, [0, 4], Array.Empty<byte>());
        w.WriteTo(dir.File("m.safetensors"));

        using var f = SafetensorsFile.Open(dir.File("m.safetensors"));
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(0, f.DataOffset % 8);
        Assert.Equal(new[] { "f32", "f16", "bf16", "empty" }, f.Tensors.Select(t => t.Name));
        Assert.Equal(new long[] { 2, 3 }, f.GetTensor("f32").Shape);
        Assert.Equal(Values, f.ReadAsFloat32(f.GetTensor("f32")));
        Assert.Equal(Values, f.ReadAsFloat32(f.GetTensor("f16")), new HalfTolerance(1e-3f));
        var bf = f.ReadAsFloat32(f.GetTensor("bf16"));
        Assert.Equal(1f, bf[0]);
        Assert.Equal(-2.5f, bf[1]);
        Assert.Equal(65536f, bf[4]); // 65504 is not a bf16: rounds to 2^16
        Assert.Empty(f.ReadAsFloat32(f.GetTensor("empty")));
    }

    [Fact]
    public void Header_is_the_documented_layout()
    {
        // u64 little-endian header length, JSON, data; offsets relative to the data start.
        using var dir = new TempDir("st-layout");
        var w = new SafetensorsWriter();
        w.Add("x", SafetensorsDType.F32, [2], MemoryMarshal.AsBytes(new[] { 1f, 2f }.AsSpan()).ToArray());
        w.WriteTo(dir.File("x.safetensors"));
        var bytes = File.ReadAllBytes(dir.File("x.safetensors"));
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        // __metadata__.format = "pt" by default: transformers and PEFT refuse safetensors files without it.
        Assert.Equal("{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", Encoding.UTF8.GetString(bytes, 8, n).TrimEnd(' '));
        Assert.Equal(8 + n + 8, bytes.Length);
        Assert.Equal(2f, BitConverter.ToSingle(bytes, 8 + n + 4));
    }

    [Fact]
    public void Sharded_checkpoint_with_index_is_read_by_name()
    {
        using var dir = new TempDir("st-shard");
        var w = new SafetensorsCheckpointWriter { MaxShardBytes = 50 };
        for (var i = 0; i < 5; i++)
        {
            var data = Enumerable.Range(0, 10).Select(j => (float)(i * 100 + j)).ToArray();
            w.Add($"layer.{i}.weight", SafetensorsDType.F32, [10], MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        }

        var files = w.WriteTo(dir.Path);
        Assert.Equal(SafetensorsCheckpoint.IndexFileName, Path.GetFileName(files[^1]));
        Assert.Equal(5, Directory.GetFiles(dir.Path, "model-*-of-00005.safetensors").Length);

        using var c = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(5, c.Files.Count);
        Assert.Equal(5, c.TensorNames.Count);
        Assert.Equal(304f, c.ReadAsFloat32("layer.3.weight")[4]);
        var index = File.ReadAllText(files[^1]);
        Assert.Contains("\"total_size\": 200", index);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("../x")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/model.safetensors")]
    [InlineData("")]
    public void Index_pointing_outside_the_folder_is_refused(string shard)
    {
        // The shard is refused by its name, before anything is opened: whether the target exists never shows.
        using var dir = new TempDir("st-evil");
        File.WriteAllText(dir.File(SafetensorsCheckpoint.IndexFileName), "{\"weight_map\": {\"a\": " + System.Text.Json.JsonSerializer.Serialize(shard) + "}}");
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Contains("weight_map.a", e.Message);
        Assert.Contains("is not a shard file name", e.Message);
    }

    [Fact]
    public void Index_naming_a_tensor_the_shard_lacks()
    {
        using var dir = new TempDir("st-missing");
        var w = new SafetensorsWriter();
        w.Add("present", SafetensorsDType.F32, [1], new byte[4]);
        w.WriteTo(dir.File("s1.safetensors"));
        File.WriteAllText(dir.File(SafetensorsCheckpoint.IndexFileName), "{\"weight_map\": {\"absent\": \"s1.safetensors\"}}");
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Contains("absent", e.Message);
    }

    [Theory]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "'x'.data_offsets")] // past the end
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "'x'.data_offsets")] // size mismatch
    [InlineData("{\"x\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'x'.dtype")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "'x'.shape[0]")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps")]
    [InlineData("{\"x\": [", 8, "header")]
    public void Corrupt_headers_name_the_field(string header, int dataBytes, string expected)
    {
        using var dir = new TempDir("st-bad");
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = BitConverter.GetBytes((ulong)h.Length).Concat(h).Concat(new byte[dataBytes]).ToArray();
        File.WriteAllBytes(dir.File("bad.safetensors"), bytes);
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(dir.File("bad.safetensors")));
        Assert.Contains(expected, e.Message);
        Assert.Contains("bad.safetensors", e.Message);
    }

    [Fact]
    public void Header_length_larger_than_the_file()
    {
        using var dir = new TempDir("st-len");
        File.WriteAllBytes(dir.File("t.safetensors"), BitConverter.GetBytes(ulong.MaxValue).Concat("{}"u8.ToArray()).ToArray());
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(dir.File("t.safetensors")));
        Assert.Equal("header length", e.Field);
    }

    private sealed class HalfTolerance(float relative) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= relative * Math.Max(Math.Abs(x), Math.Abs(y)) + 1e-7f;

        public int GetHashCode(float obj) => 0;
    }
}
