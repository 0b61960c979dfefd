using Alpaca.Inference.Benchmarking;
using Alpaca.Llm.Gguf;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Benchmarking;

/// <summary><c>alpaca bench --make-model SHAPE:TYPE</c>: the K-quant file types, written as llama-quantize names them.</summary>
public class BenchmarkModelsTests
{
    [Theory]
    [InlineData("q4_k_m", "tiny-q4_k_m.gguf", 15)]
    [InlineData("q5_k_m", "tiny-q5_k_m.gguf", 17)]
    [InlineData("Q6_K", "tiny-q6_k.gguf", 18)]
    [InlineData("q8_0", "tiny-q8_0.gguf", 7)]
    public void K_quant_mixtures_are_written_with_llama_cpps_file_type(string type, string fileName, int ftype)
    {
        using var dir = new TempDir("bench-models");
        var path = BenchmarkModels.Ensure($"tiny:{type}", dir.Path);
        Assert.Equal(fileName, Path.GetFileName(path));
        using var file = GgufFile.Open(path);
        Assert.Equal(ftype, file.Metadata.GetInteger("general.file_type"));
        // A second call finds the file instead of writing it again.
        var written = File.GetLastWriteTimeUtc(path);
        Assert.Equal(path, BenchmarkModels.Ensure($"tiny:{type}", dir.Path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void An_unknown_type_names_the_accepted_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => BenchmarkModels.ParseRecipe("q3_k_m"));
        Assert.Contains("q4_k_m, q5_k_m or q6_k", e.Message);
    }
}
