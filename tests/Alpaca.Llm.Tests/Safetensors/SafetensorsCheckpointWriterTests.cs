using System.Runtime.InteropServices;
using Alpaca.Llm.Safetensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Safetensors;

/// <summary>The save_pretrained layout the trainer's checkpoints and the converter's HF folders share.</summary>
public class SafetensorsCheckpointWriterTests
{
    private static SafetensorsCheckpointWriter Writer(long maxShardBytes, float offset)
    {
        var w = new SafetensorsCheckpointWriter { MaxShardBytes = maxShardBytes };
        for (var i = 0; i < 4; i++)
        {
            var data = Enumerable.Range(0, 10).Select(j => offset + (i * 100) + j).ToArray();
            w.Add($"layer.{i}.weight", SafetensorsDType.F32, [10], MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        }

        return w;
    }

    [Fact]
    public void Saving_again_into_a_folder_leaves_only_the_new_layout()
    {
        using var dir = new TempDir("st-resave");
        Writer(maxShardBytes: 50, offset: 0).WriteTo(dir.Path);
        Assert.Equal(4, Directory.GetFiles(dir.Path, "model-*-of-00004.safetensors").Length);
        File.WriteAllText(dir.File("model.safetensors.partial"), "left over by a killed save");

        // Single file over shards: the stale index would otherwise win when the folder is opened.
        Writer(maxShardBytes: 1L << 40, offset: 1000).WriteTo(dir.Path);
        Assert.Equal([SafetensorsCheckpoint.SingleFileName], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        using (var c = SafetensorsCheckpoint.Open(dir.Path))
        {
            Assert.Equal(1304f, c.ReadAsFloat32("layer.3.weight")[4]);
        }

        // Shards over a single file, then fewer shards over more.
        Writer(maxShardBytes: 50, offset: 2000).WriteTo(dir.Path);
        Assert.False(File.Exists(dir.File(SafetensorsCheckpoint.SingleFileName)));
        Writer(maxShardBytes: 80, offset: 3000).WriteTo(dir.Path);
        Assert.Equal(
            ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", SafetensorsCheckpoint.IndexFileName],
            Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using (var c = SafetensorsCheckpoint.Open(dir.Path))
        {
            Assert.Equal(3304f, c.ReadAsFloat32("layer.3.weight")[4]);
            Assert.All(c.Files, f => Assert.Equal("pt", f.Metadata["format"]));
        }
    }

    [Fact]
    public void Other_files_in_the_folder_are_kept()
    {
        using var dir = new TempDir("st-keep");
        File.WriteAllText(dir.File("config.json"), "{}");
        File.WriteAllText(dir.File("adapter_model.safetensors"), "not ours");
        Writer(maxShardBytes: 50, offset: 0).WriteTo(dir.Path);
        Assert.True(File.Exists(dir.File("config.json")));
        Assert.True(File.Exists(dir.File("adapter_model.safetensors")));
    }

    [Fact]
    public void A_folder_with_only_pytorch_weights_says_to_convert_them()
    {
        using var dir = new TempDir("st-bin");
        File.WriteAllBytes(dir.File("pytorch_model.bin"), [0]);
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Contains(SafetensorsCheckpoint.IndexFileName, e.Message);
        Assert.Contains("pytorch_model.bin", e.Message);
    }
}
