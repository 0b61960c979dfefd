using Alpaca.Llm.Safetensors;
using Alpaca.Llm.WeightDiffs;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.WeightDiffs;

/// <summary>weight_diff.py's make_diff and recover on sharded safetensors: bit-exact, verified, streamed.</summary>
public class WeightDiffTests
{
    [Theory]
    [InlineData(SafetensorsDType.F32)]
    [InlineData(SafetensorsDType.F16)]
    [InlineData(SafetensorsDType.BF16)]
    public void Diff_then_recover_round_trips_bit_exactly_in_the_same_layout(SafetensorsDType dtype)
    {
        using var dir = new TempDir("wdiff-rt");
        var (basePath, tunedPath) = TinyCheckpoints.WritePair(dir.Path, dtype);
        var diffPath = dir.File("diff");
        var recoveredPath = dir.File("recovered");

        var made = WeightDiff.Create(basePath, tunedPath, diffPath);
        // The sign flips and jumps must need exceptions, or the exact-recovery path would go untested.
        Assert.True(made.Exceptions > 0, $"{dtype}: no element needed an exception");
        var recovered = WeightDiff.Recover(basePath, diffPath, recoveredPath, check: true);

        Assert.Equal(made.TunedSha256, recovered.TunedSha256);
        var tuned = TinyCheckpoints.ReadAll(tunedPath);
        var back = TinyCheckpoints.ReadAll(recoveredPath);
        Assert.Equal(tuned.Keys, back.Keys);
        foreach (var (name, bytes) in tuned)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(back[name]), $"{dtype} {name} differs after the round trip");
        }

        // Same file layout: the shard names, the index, the config and tokenizer files.
        string[] Layout(string d) => Directory.GetFiles(d).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.True(Layout(tunedPath).Length > 4, "the tuned checkpoint should be sharded");
        Assert.Equal(Layout(tunedPath), Layout(recoveredPath));
        Assert.Equal(File.ReadAllText(Path.Combine(tunedPath, SafetensorsCheckpoint.IndexFileName)), File.ReadAllText(Path.Combine(recoveredPath, SafetensorsCheckpoint.IndexFileName)));
        Assert.Equal(File.ReadAllText(Path.Combine(tunedPath, "config.json")), File.ReadAllText(Path.Combine(diffPath, "config.json")));
        Assert.Contains(WeightDiff.ManifestFileName, Layout(diffPath));
    }

    [Fact]
    public void A_tampered_diff_fails_the_integrity_check_and_leaves_no_weights()
    {
        using var dir = new TempDir("wdiff-tamper");
        var (basePath, tunedPath) = TinyCheckpoints.WritePair(dir.Path, SafetensorsDType.F16);
        var diffPath = dir.File("diff");
        WeightDiff.Create(basePath, tunedPath, diffPath);

        var shard = Directory.GetFiles(diffPath, "model-*.safetensors").Order(StringComparer.Ordinal).Last();
        var bytes = File.ReadAllBytes(shard);
        bytes[^3] ^= 0x01; // one bit of the last tensor's data
        File.WriteAllBytes(shard, bytes);

        var e = Assert.Throws<WeightDiffIntegrityException>(() => WeightDiff.Recover(basePath, diffPath, dir.File("out")));
        Assert.Contains("Integrity check failed", e.Message);
        Assert.Empty(Directory.GetFiles(dir.File("out"), "*.safetensors"));
    }

    [Fact]
    public void A_different_base_is_named_as_the_wrong_base()
    {
        using var dir = new TempDir("wdiff-base");
        var (basePath, tunedPath) = TinyCheckpoints.WritePair(dir.Path, SafetensorsDType.BF16, seed: 1);
        WeightDiff.Create(basePath, tunedPath, dir.File("diff"));
        var (otherBase, _) = TinyCheckpoints.WritePair(dir.File("other"), SafetensorsDType.BF16, seed: 2);

        var e = Assert.Throws<WeightDiffIntegrityException>(() => WeightDiff.Recover(otherBase, dir.File("diff"), dir.File("out")));
        Assert.Contains("is not the checkpoint this diff was made from", e.Message);

        // A base of another dtype (or shape) is refused before any arithmetic.
        var (f32Base, _) = TinyCheckpoints.WritePair(dir.File("f32"), SafetensorsDType.F32);
        e = Assert.Throws<WeightDiffIntegrityException>(() => WeightDiff.Recover(f32Base, dir.File("diff"), dir.File("out2")));
        Assert.Contains("does not match", e.Message);
        e = Assert.Throws<WeightDiffIntegrityException>(() => WeightDiff.Create(f32Base, tunedPath, dir.File("diff2")));
        Assert.Contains("F32", e.Message);
    }

    [Fact]
    public void Tensors_stream_one_at_a_time_through_fixed_chunk_buffers()
    {
        using var dir = new TempDir("wdiff-mem");
        var (basePath, tunedPath) = TinyCheckpoints.WritePair(dir.Path, SafetensorsDType.F32);
        var open = 0;
        var maxOpen = 0;
        var seen = new List<string>();
        var options = new WeightDiffOptions
        {
            ChunkElements = 64, // smaller than every tensor but the norm: each is split into chunks
            OnTensor = (name, starting) =>
            {
                open += starting ? 1 : -1;
                maxOpen = Math.Max(maxOpen, open);
                if (starting)
                {
                    seen.Add(name);
                }
            },
        };

        var made = WeightDiff.Create(basePath, tunedPath, dir.File("diff"), options);
        var back = WeightDiff.Recover(basePath, dir.File("diff"), dir.File("out"), options: options);
        Assert.Equal(1, maxOpen);
        Assert.Equal(2 * TinyCheckpoints.Tensors.Length, seen.Count);
        Assert.Equal(2 * 64 * 4, made.PeakBufferBytes);
        Assert.Equal(2 * 64 * 4, back.PeakBufferBytes);
        Assert.Equal(TinyCheckpoints.ReadAll(tunedPath)["lm_head.weight"], TinyCheckpoints.ReadAll(dir.File("out"))["lm_head.weight"]);
    }
}
