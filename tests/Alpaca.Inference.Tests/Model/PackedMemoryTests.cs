using System.Globalization;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Model;

/// <summary>What a loaded quantized model holds in memory: the packed copy, not the packed copy and the GGUF bytes.</summary>
public class PackedMemoryTests
{
    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    // The K-quant records keep the low 4 bits as nibbles and the high bits as bit planes (KQuantPackedLayout):
    // a record of 8 rows × 256 columns is at most 6% above the 8 GGUF super-blocks it replaces
    // (whole bytes per Q5_K/Q6_K quant, as before, were 1.68× and 1.41×).
    public void The_K_quant_packed_copy_is_within_6_percent_of_the_GGUF_bytes(GgmlType type)
    {
        const int rows = 40, columns = 512;
        var gguf = (double)rows * GgmlTypeInfo.RowBytes(type, columns);
        Assert.InRange(KQuantPackedLayout.Bytes(type, rows, columns) / gguf, 1.0, 1.06);
        using var w = TestWeights.KQuantMatrix(type, rows, columns, seed: 3);
        if (w.IsKPacked)
        {
            Assert.Equal(KQuantPackedLayout.Bytes(type, rows, columns), w.StreamBytes);
        }
    }

    [Fact]
    // Packing reads every GGUF page of a matrix into the process; the loader hands them back (madvise), so
    // the file mapping's resident pages (/proc/self/smaps) are the metadata and the unpacked tensors only.
    public void Loading_releases_the_GGUF_pages_of_packed_matrices()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var dir = new TempDir();
        var path = dir.File("released-pages-q4_k_m.gguf");
        var config = TinyModelFactory.Tiny(dim: 256, ffn: 768, vocab: 512) with { TiedEmbeddings = false };
        TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = config, Seed = 5, InitStd = 0.05f }, WeightRecipe.Parse("q4_k_m"));
        using var weights = LlamaWeights.Load(path);
        var packed = weights.Matrices.Where(m => m.IsPacked || m.IsKPacked).ToList();
        if (packed.Count == 0)
        {
            return; // a CPU with neither AVX2 nor sdot keeps no packed copies
        }

        var packedGguf = packed.Sum(m => m.RowBytes * m.Rows);
        var fileBytes = new FileInfo(path).Length;
        Assert.True(packedGguf > fileBytes / 2, $"the test model should be mostly packed matrices ({packedGguf} of {fileBytes} bytes)");
        // Rounding each matrix inward to whole pages leaves at most 2 partial pages per matrix resident.
        var page = Environment.SystemPageSize;
        var bound = fileBytes - packedGguf + (2L * page * packed.Count);
        var resident = MappedRss(path);
        Assert.True(resident <= bound, $"{resident} bytes of the file are resident, more than the {bound} of its unpacked parts");

        // The bytes stay valid: reading a row in the middle of a packed matrix faults its page back in from the file.
        var w = packed[0];
        var row = new byte[w.RowBytes];
        w.Row(w.Rows / 2).CopyTo(row);
        Assert.True(MappedRss(path) > resident, "a released page read again should be resident");
        Assert.Contains(row, b => b != 0);
    }

    // Sum of "Rss:" over this process's mappings of the file.
    private static long MappedRss(string path)
    {
        var name = Path.GetFileName(path);
        long total = 0;
        var inFile = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            // Mapping headers ("7f12…-7f13… r--s 00000000 fd:01 1234 /path") start with an address range;
            // attribute lines ("Rss:  8 kB") with a key and a colon.
            var first = line.Split(' ', 2)[0];
            if (first.Contains('-', StringComparison.Ordinal) && !first.EndsWith(':'))
            {
                inFile = line.EndsWith(name, StringComparison.Ordinal);
            }
            else if (inFile && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                total += long.Parse(line["Rss:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return total;
    }
}
