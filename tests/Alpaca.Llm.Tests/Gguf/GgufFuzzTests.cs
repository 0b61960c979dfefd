using System.Diagnostics;
using Alpaca.Llm.Gguf;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Gguf;

/// <summary>
/// Throws thousands of mutated copies of a valid file at the reader. Each must load (and then every
/// tensor must be readable) or throw GgufFormatException — no other exception, no hang, no crash.
/// </summary>
public class GgufFuzzTests
{
    [Fact]
    public void Mutated_files_load_or_fail_with_a_format_error()
    {
        var good = GgufTestFiles.Small();
        var rng = new Random(20261124);
        int loaded = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 4000; i++)
        {
            var bytes = Mutate(good, rng);
            try
            {
                using var g = GgufFile.FromBytes(bytes);
                foreach (var t in g.Tensors)
                {
                    _ = g.GetTensorBytes(t).ToArray(); // touching every byte proves the bounds were right
                }

                loaded++;
            }
            catch (GgufFormatException e)
            {
                Assert.False(string.IsNullOrEmpty(e.Field));
                rejected++;
            }
        }

        Assert.True(loaded > 0 && rejected > 0, $"loaded {loaded}, rejected {rejected}: the mutations should produce both");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"4000 parses took {clock.Elapsed}");
    }

    [Fact]
    public void Mutated_files_on_disk_go_through_the_memory_map_safely()
    {
        var good = GgufTestFiles.Small();
        var rng = new Random(99);
        using var dir = new TempDir("gguf-fuzz");
        for (var i = 0; i < 300; i++)
        {
            var path = dir.File($"{i}.gguf");
            File.WriteAllBytes(path, Mutate(good, rng));
            try
            {
                using var g = GgufFile.Open(path);
                foreach (var t in g.Tensors)
                {
                    _ = g.GetTensorBytes(t).ToArray();
                }
            }
            catch (GgufFormatException)
            {
            }
        }
    }

    private static byte[] Mutate(byte[] good, Random rng)
    {
        var bytes = (byte[])good.Clone();
        switch (rng.Next(5))
        {
            case 0: // flip a few random bits
                for (var k = rng.Next(1, 4); k > 0; k--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return bytes;
            case 1: // truncate
                return bytes[..rng.Next(bytes.Length)];
            case 2: // overwrite an aligned 8-byte field (counts, lengths, dims, offsets) with a hostile value
                {
                    var at = rng.Next(bytes.Length / 4) * 4;
                    ulong[] hostile = [0, 1, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, ulong.MaxValue, (ulong)bytes.Length, 1UL << 33, (ulong)rng.Next()];
                    var v = BitConverter.GetBytes(hostile[rng.Next(hostile.Length)]);
                    v.AsSpan(0, Math.Min(8, bytes.Length - at)).CopyTo(bytes.AsSpan(at));
                    return bytes;
                }

            case 3: // overwrite a 4-byte field (types, n_dims, version) with a small or large value
                {
                    var at = rng.Next(bytes.Length - 4);
                    BitConverter.GetBytes((uint)(rng.Next(2) == 0 ? rng.Next(40) : rng.Next())).CopyTo(bytes, at);
                    return bytes;
                }

            default: // random byte run
                {
                    var at = rng.Next(bytes.Length);
                    var n = Math.Min(rng.Next(1, 16), bytes.Length - at);
                    rng.NextBytes(bytes.AsSpan(at, n));
                    return bytes;
                }
        }
    }
}
