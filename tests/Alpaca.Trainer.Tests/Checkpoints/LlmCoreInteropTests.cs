using Alpaca.Llm.Models;
using Alpaca.Llm.Safetensors;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Tests.Reference;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Checkpoints;

/// <summary>HF folders written by the LLM core (libs/Alpaca.Llm) load into the trainer unchanged.</summary>
public sealed class LlmCoreInteropTests
{
    [Theory]
    [InlineData(SafetensorsDType.F32, 1L << 40)]
    [InlineData(SafetensorsDType.BF16, 40_000L)] // sharded, bf16 on disk
    public void Tiny_model_factory_checkpoint_loads_and_matches_the_reference_forward(SafetensorsDType dtype, long shardBytes)
    {
        using var dir = new TempDir("llm-core");
        var spec = new TinyModelSpec { Config = TinyModelFactory.Tiny(), Seed = 5, InitStd = 0.2f };
        TinyModelFactory.WriteHf(dir.Path, spec, dtype, shardBytes);

        using var loaded = HfCheckpoint.Load(dir.Path);
        Assert.Equal((64, 2, 4, 2, 192, 384), (loaded.Config.Dim, loaded.Config.NLayers, loaded.Config.NHeads,
            loaded.Config.NKvHeads, loaded.Config.FfnDim, loaded.Config.VocabSize));
        Assert.Equal(384, loaded.Tokenizer.Count);

        using var model = new LlamaForCausalLM(loaded.Config);
        ModelWeights.Load(model, loaded.Weights, dir.Path);
        model.eval();
        var ids = loaded.Tokenizer.Encode("Give three tips for staying healthy.").Select(i => (long)i).ToArray();
        Assert.Equal(1, ids[0]); // BOS, as add_bos_token says
        using var _ = no_grad();
        using var logits = model.forward(tensor(ids).view(1, -1));
        var reference = new NaiveLlama(loaded.Config, loaded.Weights).Logits(ids.Select(i => (int)i).ToArray());
        var actual = logits[0].to(ScalarType.Float64).data<double>().ToArray();
        for (var t = 0; t < ids.Length; t++)
        {
            for (var v = 0; v < loaded.Config.VocabSize; v++)
            {
                Assert.True(Math.Abs(reference[t][v] - actual[(t * loaded.Config.VocabSize) + v]) < 1e-3, $"t {t} v {v}");
            }
        }
    }
}
