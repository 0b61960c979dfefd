using Alpaca.Llm.Models;
using Alpaca.TestSupport;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Training;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Training;

public sealed class ResumeTests
{
    private static readonly TrainingHyperparameters Hp = new()
    {
        Epochs = 2,
        LearningRate = 3e-3,
        GlobalBatchSize = 4,
        MicroBatchSize = 2,
        MaxLength = 16,
        WarmupRatio = 0.2,
        Precision = PrecisionMode.Float32,
        CheckpointEverySteps = 3,
        Seed = 1234,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_killed_run_resumes_and_its_loss_curve_continues_as_if_never_stopped(bool lora)
    {
        var config = TinyModels.Config();
        var data = SyntheticData.Examples(22, config.VocabSize, 16, seed: 8); // 6 steps per epoch, last batch of 2
        var loraSettings = lora ? new LoraSettings { TargetModules = ["q_proj", "v_proj", "down_proj"], Dropout = 0.1 } : null;

        using var dirA = new TempDir("resume-a");
        var uninterrupted = Run(config, data, loraSettings, dirA.Path, stopAfterStep: null);
        Assert.Equal(12, uninterrupted.Count);

        using var dirB = new TempDir("resume-b");
        Assert.Throws<OperationCanceledException>(() => Run(config, data, loraSettings, dirB.Path, stopAfterStep: 8));
        // Checkpoints at 3 and 6 survive; the partial step 9 left nothing behind.
        Assert.True(Directory.Exists(Path.Combine(dirB.Path, "checkpoint-6")));
        Assert.False(Directory.Exists(Path.Combine(dirB.Path, "checkpoint-9")));

        var resumed = Run(config, data, loraSettings, dirB.Path, stopAfterStep: null, expectResumeFrom: 6);

        Assert.Equal(uninterrupted.Select(r => r.Step), resumed.Select(r => r.Step));
        for (var i = 0; i < uninterrupted.Count; i++)
        {
            // Same ops on the same inputs and state: on CPU the curve is reproduced to the last bit;
            // the tolerance only allows for a different BLAS path after a restart.
            Assert.True(Math.Abs(uninterrupted[i].Loss - resumed[i].Loss) <= 1e-6 * Math.Abs(uninterrupted[i].Loss), $"step {i + 1}: {uninterrupted[i].Loss} vs {resumed[i].Loss}");
            Assert.Equal(uninterrupted[i].LearningRate, resumed[i].LearningRate, 15);
        }
    }

    [Fact]
    public void A_truncated_newest_checkpoint_and_one_without_manifest_are_skipped_and_the_previous_valid_one_is_resumed()
    {
        var config = TinyModels.Config();
        var data = SyntheticData.Examples(22, config.VocabSize, 16, seed: 8);
        using var dirA = new TempDir("resume-t-a");
        var uninterrupted = Run(config, data, null, dirA.Path, stopAfterStep: null);

        using var dirB = new TempDir("resume-t-b");
        Assert.Throws<OperationCanceledException>(() => Run(config, data, null, dirB.Path, stopAfterStep: 8));
        var six = Path.Combine(dirB.Path, "checkpoint-6");
        // A newer folder with every file but no manifest: a save that a power loss cut short.
        var nine = Path.Combine(dirB.Path, "checkpoint-9");
        Directory.CreateDirectory(nine);
        foreach (var file in Directory.GetFiles(six).Where(f => Path.GetFileName(f) != CheckpointManifest.FileName))
        {
            File.Copy(file, Path.Combine(nine, Path.GetFileName(file)));
        }

        // And checkpoint-6 truncated: its manifest no longer matches.
        var optimizer = Path.Combine(six, CheckpointStore.OptimizerFile);
        using (var stream = new FileStream(optimizer, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(stream.Length / 2);
        }

        var store = new CheckpointStore(dirB.Path, keep: 2);
        Assert.Equal(Path.Combine(dirB.Path, "checkpoint-3"), store.Latest(out var skipped));
        Assert.Equal([nine, six], skipped.Select(s => s.Path));
        Assert.Contains("no manifest.json", skipped[0].Reason);
        Assert.Contains("bytes, the manifest says", skipped[1].Reason);

        var resumed = Run(config, data, null, dirB.Path, stopAfterStep: null, expectResumeFrom: 3);
        Assert.Equal(uninterrupted.Select(r => r.Step), resumed.Select(r => r.Step));
        for (var i = 0; i < uninterrupted.Count; i++)
        {
            Assert.True(Math.Abs(uninterrupted[i].Loss - resumed[i].Loss) <= 1e-6 * Math.Abs(uninterrupted[i].Loss), $"step {i + 1}: {uninterrupted[i].Loss} vs {resumed[i].Loss}");
        }

        // The run rewrote the later checkpoints whole: the newest is valid again and nothing is skipped.
        Assert.Equal(Path.Combine(dirB.Path, "checkpoint-12"), store.Latest(out var after));
        Assert.Empty(after);
    }

    [Fact]
    public void A_checkpoint_with_a_changed_byte_fails_its_hash()
    {
        var config = TinyModels.Config();
        var data = SyntheticData.Examples(8, config.VocabSize, 16, seed: 8);
        using var dir = new TempDir("resume-h");
        Run(config, data, null, dir.Path, stopAfterStep: null, hp: Hp with { Epochs = 1, CheckpointEverySteps = 1, KeepCheckpoints = 1 });
        var store = new CheckpointStore(dir.Path, keep: 1);
        var latest = store.Latest()!;
        var state = Path.Combine(latest, CheckpointStore.TrainableFile);
        var bytes = File.ReadAllBytes(state);
        bytes[^1] ^= 0xFF; // same size, different content
        File.WriteAllBytes(state, bytes);
        Assert.Null(store.Latest(out var skipped));
        Assert.Contains("SHA-256", Assert.Single(skipped).Reason);
    }

    [Fact]
    public void Resuming_with_different_settings_is_refused_naming_the_setting()
    {
        var config = TinyModels.Config();
        var data = SyntheticData.Examples(8, config.VocabSize, 16, seed: 8);
        using var dir = new TempDir("resume-c");
        Run(config, data, null, dir.Path, stopAfterStep: null, hp: Hp with { Epochs = 1, CheckpointEverySteps = 1 });
        var e = Assert.Throws<InvalidOperationException>(() =>
            Run(config, data, null, dir.Path, stopAfterStep: null, hp: Hp with { Epochs = 1, CheckpointEverySteps = 1, LearningRate = 1e-3 }));
        Assert.Contains("learning_rate", e.Message);
    }

    private static List<LossRecord> Run(
        LlamaConfig config,
        Trainer.Data.SupervisedDataset data,
        LoraSettings? lora,
        string checkpoints,
        long? stopAfterStep,
        long expectResumeFrom = 0,
        TrainingHyperparameters? hp = null)
    {
        hp ??= Hp;
        // A restarted process rebuilds the same base model from the same seed (or base checkpoint).
        using var model = TinyModels.Create(config, lora, seed: 21);
        if (lora is not null)
        {
            foreach (var (name, p) in model.named_parameters())
            {
                p.requires_grad = LoraNames.IsAdapter(name);
            }
        }

        var fingerprint = new Dictionary<string, string> { ["learning_rate"] = hp.LearningRate.ToString("R") };
        using var trainer = new SftTrainer(model, data, hp, padId: 0, CPU, checkpoints, fingerprint);
        Assert.Equal(expectResumeFrom, trainer.ResumeIfPossible());
        using var cts = new CancellationTokenSource();
        trainer.Train(new InlineProgress<TrainingStepEvent>(e =>
        {
            if (e.Step == stopAfterStep)
            {
                cts.Cancel(); // observed at the next micro-batch: the job dies mid-step, like a kill
            }
        }), cts.Token);
        return trainer.History.ToList();
    }
}
