using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Tests.Model;

/// <summary>
/// A Llama-3.2-shaped GGUF (tied embeddings, llama3 rope scaling as rope_freqs.weight): the RoPE angles are
/// transformers' llama3 frequencies, and the fast forward pass matches the scalar reference.
/// </summary>
public class Llama3ForwardTests
{
    private static readonly int[] Prompt = [1, 5, 17, 300, 42, 7, 99, 3, 250, 383, 0, 64, 12, 200, 31, 77];

    private static readonly LlamaConfig Config = TinyModelFactory.Tiny(dim: 64, heads: 2, kvHeads: 1) with
    {
        TiedEmbeddings = true,
        RopeTheta = 500000f,
        RopeScaling = new Llama3RopeScaling { Factor = 32, OriginalContextLength = 32 },
    };

    private static string Write(TempDir dir, GgmlType type)
    {
        var path = dir.File($"llama32-{type}.gguf");
        TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = Config, RandomNorms = true, Seed = 5, InitStd = 0.08f }, type);
        return path;
    }

    [Fact]
    public void Rope_angles_are_transformers_llama3_frequencies()
    {
        using var dir = new TempDir("llama32-rope");
        using var weights = LlamaWeights.Load(Write(dir, GgmlType.F32));
        Assert.Equal(Config, weights.Config);
        var half = weights.RopeDim / 2;
        Span<float> cos = stackalloc float[half], sin = stackalloc float[half];
        const int pos = 60;
        ReferenceOps.RopeCosSin(pos, weights.RopeDim, Config.RopeTheta, cos, sin, weights.RopeFreqFactors);

        // transformers' _compute_llama3_parameters, written out: wavelength bands 32/4 and 32/1.
        for (var i = 0; i < half; i++)
        {
            var inv = 1.0 / Math.Pow(500000.0, 2.0 * i / weights.RopeDim);
            var wavelen = 2 * Math.PI / inv;
            var llama = wavelen > 32 ? inv / 32 : inv;
            var smooth = ((32 / wavelen) - 1) / (4 - 1);
            var expected = !(wavelen < 8) && !(wavelen > 32) ? ((1 - smooth) * llama / 32) + (smooth * llama) : llama;
            Assert.Equal(Math.Cos(pos * expected), cos[i], 2e-4);
            Assert.Equal(Math.Sin(pos * expected), sin[i], 2e-4);
        }
    }

    [Theory]
    [InlineData(GgmlType.F32, 2e-3)]
    [InlineData(GgmlType.Q8_0, 1.5e-2)]
    public void Tied_embeddings_and_rope_freqs_match_the_reference_forward(GgmlType type, double tolerance)
    {
        using var dir = new TempDir("llama32-fwd");
        using var weights = LlamaWeights.Load(Write(dir, type));
        Assert.Equal(LlamaTensorNames.TokenEmbedding, weights.Output.Name);
        var expected = ReferenceForward.Run(weights, Prompt);
        using var model = new Transformer(weights, new ModelOptions { Threads = 2 });
        var batch = new Batch();
        batch.AddSequence(Prompt, 0, model.Cache.Allocate(), logitsForAll: true);
        model.Forward(batch);
        for (var t = 0; t < Prompt.Length; t++)
        {
            ForwardTests.AssertClose(expected[t], model.Logits(t), $"llama 3.2 shape {type} token {t}", tolerance);
        }
    }
}
