using Alpaca.TestSupport;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Training;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Lora;

public sealed class LoraTests
{
    [Fact]
    public void Defaults_are_alpaca_lora_and_names_follow_peft()
    {
        var settings = new LoraSettings();
        Assert.Equal((8, 16.0, 0.05), (settings.R, settings.Alpha, settings.Dropout));
        Assert.Equal(["q_proj", "v_proj"], settings.TargetModules);

        using var model = TinyModels.Create(lora: settings);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", names);
        Assert.Contains("model.layers.0.self_attn.q_proj.lora_A.weight", names);
        Assert.Contains("model.layers.1.self_attn.v_proj.lora_B.weight", names);
        Assert.DoesNotContain("model.layers.0.self_attn.k_proj.lora_A.weight", names);
        Assert.Equal([8, 32], model.state_dict()["model.layers.0.self_attn.q_proj.lora_A.weight"].shape);
        Assert.Equal([32, 8], model.state_dict()["model.layers.0.self_attn.q_proj.lora_B.weight"].shape);
    }

    [Fact]
    public void A_fresh_adapter_leaves_the_model_unchanged()
    {
        var config = TinyModels.Config();
        using var plain = TinyModels.Create(config, seed: 3);
        using var adapted = TinyModels.Create(config, new LoraSettings(), seed: 3);
        adapted.eval();
        plain.eval();
        using var ids = TinyModels.Tokens(2, 6, config.VocabSize, 5);
        using var _ = no_grad();
        Assert.True(plain.forward(ids).allclose(adapted.forward(ids), rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void Training_updates_only_adapters_and_merging_reproduces_base_plus_adapter_logits()
    {
        var config = TinyModels.Config();
        var settings = new LoraSettings { TargetModules = ["q_proj", "v_proj", "gate_proj", "down_proj"] };
        using var model = TinyModels.Create(config, settings, seed: 3);
        LoraAdapter.FreezeBase(model);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var data = SyntheticData.Examples(8, config.VocabSize, 12, seed: 1);
        var hp = new TrainingHyperparameters { Epochs = 2, LearningRate = 1e-2, GlobalBatchSize = 4, MicroBatchSize = 4, MaxLength = 12, WarmupRatio = 0, Precision = PrecisionMode.Float32 };
        using (var trainer = new SftTrainer(model, data, hp, 0, CPU, checkpointRoot: null))
        {
            Assert.All(trainer.Parameters, p => Assert.True(LoraNames.IsAdapter(p.Name)));
            Assert.Equal(4 * 2 * 2, trainer.Parameters.Count); // 4 targets × (A, B) × 2 layers
            trainer.Train();
        }

        foreach (var (name, value) in model.state_dict())
        {
            var changed = !value.equal(before[name]).all().item<bool>();
            Assert.Equal(name.Contains(".lora_B.") || name.Contains(".lora_A."), changed);
        }

        // Merge W' = W + (alpha/r)·B·A into a plain model and compare logits with base + adapter.
        model.eval();
        var merged = ModelWeights.Export(model, ScalarType.Float32, mergeLora: true);
        Assert.DoesNotContain(merged.Keys, LoraNames.IsAdapter);
        using var plain = new LlamaForCausalLM(config);
        ModelWeights.Load(plain, merged, "merged");
        plain.eval();
        using var ids = TinyModels.Tokens(2, 10, config.VocabSize, 9);
        using var _ = no_grad();
        using var withAdapter = model.forward(ids);
        using var withMerged = plain.forward(ids);
        using var withoutAdapter = TinyModels.Create(config, seed: 3).forward(ids);
        // fp32: the merged matmul rounds once instead of twice; ~1e-6 relative.
        Assert.True(withAdapter.allclose(withMerged, rtol: 1e-4, atol: 1e-5));
        Assert.False(withAdapter.allclose(withoutAdapter, rtol: 1e-3, atol: 1e-3), "training changed nothing visible");
    }

    [Fact]
    public void Adapter_only_checkpoint_round_trips_in_peft_format()
    {
        var config = TinyModels.Config();
        var settings = new LoraSettings { R = 4, Alpha = 8, Dropout = 0.1, TargetModules = ["k_proj", "o_proj"] };
        using var model = TinyModels.Create(config, settings, seed: 3);
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains(".lora_B.")))
            {
                p.normal_(0, 0.1);
            }
        }

        using var dir = new TempDir("adapter");
        LoraAdapter.Save(dir.Path, model, "tiny");
        var keys = Trainer.Checkpoints.TensorBridge.Read(dir.File(LoraAdapter.WeightsFile)).Keys.ToList();
        Assert.Contains("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", keys);
        Assert.Equal(2 * 2 * 2, keys.Count);
        Assert.Equal(settings with { MergeOnExport = true }, LoraAdapter.ReadSettings(dir.Path) with { TargetModules = settings.TargetModules });

        using var restored = TinyModels.Create(config, LoraAdapter.ReadSettings(dir.Path), seed: 3);
        LoraAdapter.Load(dir.Path, restored);
        foreach (var (name, value) in model.state_dict())
        {
            Assert.True(value.equal(restored.state_dict()[name]).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Unknown_target_modules_are_rejected_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => new LoraSettings { TargetModules = ["qkv_proj"] }.Validate());
        Assert.Contains("qkv_proj", e.Message);
    }
}
