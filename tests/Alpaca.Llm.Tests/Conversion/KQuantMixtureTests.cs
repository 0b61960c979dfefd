using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.Conversion;

/// <summary>
/// Per-tensor types of the Q4_K_M / Q5_K_M mixtures against llama.cpp's rule (llama_tensor_get_type in
/// src/llama-quant.cpp), worked out by hand here for 8 layers: use_more_bits(i, 8) holds for i &lt; 1, i ≥ 7 and
/// (i − 1) % 3 == 2, i.e. layers 0, 3, 6, 7. (Inference.Tests' KQuantLlamaQuantizeTests compares with
/// llama-quantize itself.)
/// </summary>
public class KQuantMixtureTests
{
    private static readonly LlamaConfig Config = TinyModelFactory.Tiny(dim: 256, layers: 8, heads: 4, kvHeads: 2, ffn: 512, vocab: 384, context: 64);

    private static Dictionary<string, GgmlType> Write(LlamaConfig config, string type) => Write(config, type, out _);

    private static Dictionary<string, GgmlType> Write(LlamaConfig config, string type, out long? fileType)
    {
        using var dir = new TempDir("kq-mix");
        var path = dir.File("m.gguf");
        var layout = TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = config, Seed = 3 }, WeightRecipe.Parse(type));
        using var file = GgufFile.Open(path);
        var types = file.Tensors.ToDictionary(t => t.Name, t => t.Type);
        fileType = file.Metadata.GetInteger("general.file_type");
        Assert.Equal(layout.ToDictionary(t => t.Name, t => t.Type), types);
        return types;
    }

    [Theory]
    [InlineData("q4_k_m", GgmlType.Q4_K, 15L)]
    [InlineData("q5_k_m", GgmlType.Q5_K, 17L)]
    public void Mixture_gives_attn_v_and_ffn_down_of_the_use_more_bits_layers_and_the_output_Q6_K(string recipe, GgmlType baseType, long fileType)
    {
        var types = Write(Config, recipe, out var writtenFileType);
        Assert.Equal(fileType, writtenFileType);
        int[] moreBits = [0, 3, 6, 7];
        Assert.Equal(moreBits, Enumerable.Range(0, 8).Where(i => LlamaQuantMixture.UseMoreBits(i, 8)));
        foreach (var (name, type) in types)
        {
            var layer = LlamaTensorNames.LayerOf(name);
            var expected = name switch
            {
                _ when name.EndsWith("_norm.weight", StringComparison.Ordinal) => GgmlType.F32,
                LlamaTensorNames.Output => GgmlType.Q6_K,
                _ when (name.EndsWith(".attn_v.weight", StringComparison.Ordinal) || name.EndsWith(".ffn_down.weight", StringComparison.Ordinal)) && moreBits.Contains(layer) => GgmlType.Q6_K,
                _ => baseType, // token_embd included: untied, it keeps the default type
            };
            Assert.True(expected == type, $"{recipe}: {name} is {type}, llama-quantize's rule gives {expected}");
        }
    }

    [Fact]
    public void Tied_embeddings_take_the_output_rule()
    {
        var types = Write(Config with { TiedEmbeddings = true }, "q4_k_m");
        Assert.False(types.ContainsKey(LlamaTensorNames.Output));
        Assert.Equal(GgmlType.Q6_K, types[LlamaTensorNames.TokenEmbedding]);
    }

    [Fact]
    public void Rows_that_are_not_whole_super_blocks_fall_back()
    {
        // dim 288 (stories15M): rows of 288 fit 32-blocks but not 256-blocks; ffn_down rows are 768 = 3·256.
        var config = TinyModelFactory.Tiny(dim: 288, layers: 2, heads: 6, kvHeads: 6, ffn: 768, vocab: 384, context: 64);
        var mix = Write(config, "q4_k_m");
        Assert.Equal(GgmlType.Q8_0, mix[LlamaTensorNames.Output]);   // llama.cpp: nx % qk_k != 0 → Q8_0
        Assert.Equal(GgmlType.Q8_0, mix["blk.1.attn_q.weight"]);     // Q4_K's fallback (llama.cpp: Q5_0, which we do not serve)
        Assert.Equal(GgmlType.Q6_K, mix["blk.1.ffn_down.weight"]);   // 768-wide rows quantize
        Assert.Equal(GgmlType.Q8_0, Write(config, "q6_k")["blk.0.attn_v.weight"]);
        Assert.Equal(GgmlType.Q4_0, Write(config, "q3_k")["blk.0.attn_v.weight"]);
        Assert.Equal(GgmlType.F16, WeightRecipe.Fallback(GgmlType.Q4_K, 100));
    }

    [Theory]
    [InlineData(GgmlType.Q2_K, 0.35)]
    [InlineData(GgmlType.Q3_K, 0.2)]
    [InlineData(GgmlType.Q4_K, 0.1)]
    [InlineData(GgmlType.Q5_K, 0.05)]
    [InlineData(GgmlType.Q6_K, 0.025)]
    public void Encoded_weights_decode_close_to_the_originals(GgmlType type, double bound)
    {
        // Gaussian rows: the relative RMS error shrinks by about half per extra bit.
        var rng = new Random(5);
        var x = Enumerable.Range(0, 4096).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
        var back = Quantizer.Dequantize(type, Quantizer.Quantize(type, x), x.Length);
        var rel = Math.Sqrt(x.Zip(back).Sum(p => (p.First - p.Second) * (double)(p.First - p.Second)) / x.Sum(v => v * (double)v));
        Assert.True(rel < bound, $"{type}: relative RMS error {rel:F4} ≥ {bound}");
    }
}
