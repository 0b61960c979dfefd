using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Conformance;

/// <summary>
/// Our K-quant conversions against llama-quantize on the same F32 file: every tensor must get the type
/// llama-quantize gives it and the very same bytes (both quantize with ggml's reference quantizers when no
/// importance matrix is given). 8 layers, so use_more_bits picks some but not all layers; every row is a
/// whole number of 256-weight super-blocks.
/// </summary>
public class KQuantLlamaQuantizeTests
{
    private static readonly LlamaConfig Config = TinyModelFactory.Tiny(dim: 256, layers: 8, heads: 4, kvHeads: 2, ffn: 512, vocab: 512, context: 64);

    [Theory]
    [InlineData("q4_k_m", 15)]
    [InlineData("q5_k_m", 17)]
    [InlineData("q6_k", 18)]
    public void Our_file_equals_llama_quantize_tensor_for_tensor(string recipe, int ftype)
    {
        using var dir = new TempDir("kq-llama-quantize");
        var source = dir.File("f32.gguf");
        TinyModelFactory.WriteGguf(source, new TinyModelSpec { Config = Config, Seed = 21, InitStd = 0.05f, RandomNorms = true });
        LlamaQuantizeOracle.Quantize(source, dir.File("theirs.gguf"), ftype);
        ModelConverter.Requantize(source, dir.File("ours.gguf"), WeightRecipe.Parse(recipe));

        using var theirs = GgufFile.Open(dir.File("theirs.gguf"));
        using var ours = GgufFile.Open(dir.File("ours.gguf"));
        Assert.Equal(theirs.Tensors.Select(t => t.Name).Order(), ours.Tensors.Select(t => t.Name).Order());
        Assert.Equal(ftype, theirs.Metadata.GetInteger("general.file_type"));
        Assert.Equal(ftype, ours.Metadata.GetInteger("general.file_type"));
        foreach (var expected in theirs.Tensors)
        {
            var actual = ours.GetTensor(expected.Name);
            Assert.True(expected.Type == actual.Type, $"{recipe}: {expected.Name} is {actual.Type}, llama-quantize wrote {expected.Type}");
            Assert.Equal(expected.Shape, actual.Shape);
            var a = ours.GetTensorBytes(actual);
            var e = theirs.GetTensorBytes(expected);
            var first = a.CommonPrefixLength(e);
            Assert.True(first == e.Length && a.Length == e.Length, $"{recipe}: {expected.Name} ({expected.Type}) differs from llama-quantize's from byte {first} of {e.Length}");
        }
    }
}
