using Alpaca.Inference.Model;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Tensors;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Export;

/// <summary>TorchSharp's logits against our C# inference engine's, on the same weights after GGUF export.</summary>
public sealed class EngineParityTests(ITestOutputHelper output)
{
    [Theory]
    // Measured on this model (every kernel path, the scalar reference included, gives the same figures):
    // F32 3.8e-4 of the logit scale (RMS 3.2e-4), F16 1.0e-3 (RMS 7.7e-4), Q8_0 2.5e-2 (RMS 1.9e-2).
    // F32: identical weights, but the engine rounds keys and values to fp16 as llama.cpp's default fp16
    // KV cache does (relative error up to 2^-11 ≈ 4.9e-4 per element), which TorchSharp keeps in fp32.
    // That rounding, not the matmuls, is the whole F32 difference: 1e-3 of the scale with an RMS bound of
    // 1e-3 still catches any real error (a wrong rotary layout or norm moves logits by O(scale)).
    [InlineData("F32", 1e-3, 1e-3)]
    // F16 weights: each is rounded to 11 significant bits (relative error up to 2^-12 ≈ 2.4e-4); through
    // the matmul chain the logits move by a small multiple of that.
    [InlineData("F16", 5e-3)]
    // Q8_0: 8-bit weights per 32-block (RMS error ≈ 0.5% of a Gaussian block's σ) and, as in llama.cpp,
    // activations quantized to Q8 for the dot products: ~0.7% per matmul, compounding over ~12 matmuls.
    [InlineData("Q8_0", 1e-1, 5e-2)]
    public void Engine_logits_equal_torchsharp_logits_after_export(string type, double toleranceOfScale, double rmsTolerance = 1.0)
    {
        var tokenizer = TinyTokenizerFixture.Tokenizer;
        var config = TinyModels.Config() with { VocabSize = tokenizer.Count, Dim = 64, FfnDim = 128, InitializerRange = 0.1 };
        using var model = TinyModels.Create(config);
        model.eval();
        using var dir = new TempDir("parity");
        HfCheckpoint.Save(dir.Path, model, ScalarType.Float32, false, tokenizer, null, null, 512);
        var gguf = dir.File("model.gguf");
        HfToGgufConverter.Convert(dir.Path, gguf, Enum.Parse<GgmlType>(type));

        var ids = tokenizer.Encode("Below is an instruction that describes a task.").ToArray();
        using var _ = no_grad();
        using var logits = model.forward(tensor(ids.Select(i => (long)i).ToArray()).view(1, -1));
        var expected = logits[0].data<float>().ToArray();
        var scale = expected.Max(Math.Abs);

        using var weights = LlamaWeights.Load(gguf);
        using var engine = new Transformer(weights, new ModelOptions { Threads = 2 });
        var sequence = engine.Cache.Allocate();
        var batch = new Batch();
        for (var t = 0; t < ids.Length; t++)
        {
            batch.Add(ids[t], t, sequence, logits: true);
        }

        engine.Forward(batch);
        double worst = 0, squaredError = 0, squared = 0;
        for (var t = 0; t < ids.Length; t++)
        {
            var row = engine.Logits(t);
            for (var v = 0; v < config.VocabSize; v++)
            {
                var e = expected[(t * config.VocabSize) + v];
                worst = Math.Max(worst, Math.Abs(row[v] - e));
                squaredError += (row[v] - e) * (row[v] - e);
                squared += e * e;
            }
        }

        var relativeRms = Math.Sqrt(squaredError / squared);
        output.WriteLine($"{type}: max |Δlogit| = {worst:E2} ({worst / scale:E2} of scale {scale:F3}), relative RMS error {relativeRms:E2}");
        Assert.True(worst <= toleranceOfScale * scale, $"{type}: max |Δlogit| {worst} exceeds {toleranceOfScale} × {scale}");
        Assert.True(relativeRms <= rmsTolerance, $"{type}: relative RMS error {relativeRms} exceeds {rmsTolerance}");
    }
}
