using Alpaca.Inference.Model;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Training;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Training;

/// <summary>
/// Llama 3.2's shape at tiny size — Meta's tokenizer, tied embeddings (no lm_head.weight), θ = 500000 and
/// llama3 rope scaling — trains, exports to GGUF and is served by the engine with the trained logits.
/// </summary>
public sealed class Llama32TiedTrainingTests(ITestOutputHelper output)
{
    private static readonly Llama3RopeScaling Scaling = new() { Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalContextLength = 32 };

    [Fact]
    public void Rotary_frequencies_are_transformers_llama3_ones()
    {
        var config = TinyModels.Config() with { Dim = 64, NHeads = 2, NKvHeads = 1, RopeTheta = 500000, RopeScaling = Scaling };
        var inv = RotaryEmbedding.InverseFrequencies(config);
        for (var i = 0; i < inv.Length; i++)
        {
            // transformers' _compute_llama3_parameters, written out (head_dim 32, bands 32/4 and 32/1).
            var plain = 1.0 / Math.Pow(500000.0, 2.0 * i / 32);
            var wavelen = 2 * Math.PI / plain;
            var llama = wavelen > 32 ? plain / 32 : plain;
            var smooth = ((32 / wavelen) - 1) / (4 - 1);
            var expected = !(wavelen < 8) && !(wavelen > 32) ? ((1 - smooth) * llama / 32) + (smooth * llama) : llama;
            Assert.Equal(expected, inv[i], 2e-6 * expected);
        }
    }

    [Fact]
    public void A_llama_3_2_shaped_model_with_tied_embeddings_trains_exports_and_serves()
    {
        using var dir = new TempDir("llama32-job");
        var baseDir = ReferenceBases.Write(ReferenceBases.Llama3, Path.Combine(dir.Path, "base"), context: 128,
            shape: c => c with { TiedEmbeddings = true, RopeTheta = 500000, RopeScaling = Scaling });
        var outDir = Path.Combine(dir.Path, "out");
        var result = TrainingJob.Run(new TrainingJobSpec
        {
            BaseModel = baseDir,
            DataPath = RepoPaths.Data("alpaca_data.json"),
            OutputDir = outDir,
            MaxRecords = 2,
            Device = "cpu",
            Threads = 2,
            ExportGguf = GgufExportType.F32,
            Hyperparameters = new TrainingHyperparameters
            {
                MaxSteps = 2,
                LearningRate = 1e-2,
                WarmupRatio = 0,
                MaxLength = 96,
                GlobalBatchSize = 2,
                MicroBatchSize = 2,
                Precision = PrecisionMode.Float32,
            },
        });
        var losses = result.History.Select(h => h.Loss).ToList();
        output.WriteLine(string.Join(" ", losses));
        Assert.True(losses[^1] < losses[0], $"loss went from {losses[0]} to {losses[^1]}");

        // Saved as transformers saves a tied model: one matrix, tie_word_embeddings and rope_scaling kept.
        using var trained = HfCheckpoint.Load(outDir);
        using var original = HfCheckpoint.Load(baseDir);
        Assert.Equal((true, Scaling), (trained.Config.TiedEmbeddings, trained.Config.RopeScaling));
        Assert.DoesNotContain(LlamaTensorNames.Hf.Output, trained.Weights.Keys);

        // The one matrix was trained through both of its uses: the row of a token no example contains
        // (a reserved special token) moved, which only the LM head's gradient can do.
        const int unseen = 128_100;
        using var before = original.Weights[LlamaTensorNames.Hf.TokenEmbedding][unseen];
        using var after = trained.Weights[LlamaTensorNames.Hf.TokenEmbedding][unseen];
        Assert.True((after - before).abs().max().item<float>() > 1e-4f, "the unseen token's row did not move");

        // Served from the exported GGUF (no output.weight, rope_freqs present) with the trained model's logits.
        using (var gguf = GgufFile.Open(result.GgufPath!))
        {
            Assert.False(gguf.TryGetTensor(LlamaTensorNames.Output, out _));
            Assert.True(gguf.TryGetTensor(LlamaConfig.RopeFreqsTensor, out _));
        }

        using var model = new LlamaForCausalLM(trained.Config);
        ModelWeights.Load(model, trained.Weights, outDir);
        model.eval();
        var ids = trained.Tokenizer.Encode("Below is an instruction that describes a task. Write a response that appropriately completes the request.").ToArray();
        // Pair 1's wavelength (32.5 positions) is scaled to 1040, so the angles differ from plain RoPE from position 1 on.
        Assert.True(ids.Length > 8, "a prompt of several positions");
        using var noGrad = no_grad();
        using var logits = model.forward(tensor(ids.Select(i => (long)i).ToArray()).view(1, -1));
        var expected = logits[0].data<float>().ToArray();
        var scale = expected.Max(Math.Abs);

        using var weights = LlamaWeights.Load(result.GgufPath!);
        Assert.Equal(LlamaTensorNames.TokenEmbedding, weights.Output.Name);
        using var engine = new Transformer(weights, new ModelOptions { Threads = 2 });
        var batch = new Batch();
        batch.AddSequence(ids, 0, engine.Cache.Allocate(), logitsForAll: true);
        engine.Forward(batch);
        var worst = 0.0;
        for (var t = 0; t < ids.Length; t++)
        {
            var row = engine.Logits(t);
            for (var v = 0; v < trained.Config.VocabSize; v++)
            {
                worst = Math.Max(worst, Math.Abs(row[v] - expected[(t * trained.Config.VocabSize) + v]));
            }
        }

        // As EngineParityTests (F32): the engine's fp16 KV cache is the whole difference.
        output.WriteLine($"max |engine − TorchSharp| = {worst:E2} of scale {scale:F3}");
        Assert.True(worst <= 1e-3 * scale, $"max |Δlogit| {worst} exceeds 1e-3 × {scale}");
    }
}
