using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Training;
using Xunit;
using Xunit.Abstractions;

namespace Alpaca.Trainer.Tests.Training;

public sealed class TrainingJobTests(ITestOutputHelper output)
{
    [Fact]
    public void Tiny_model_fine_tuned_on_a_handful_of_alpaca_records_drives_its_loss_down()
    {
        using var dir = new TempDir("job");
        var spec = new TrainingJobSpec
        {
            BaseModel = "tiny",
            DataPath = RepoPaths.Data("alpaca_data.json"),
            OutputDir = dir.Path,
            MaxRecords = 8,
            Device = "cpu",
            Threads = 2,
            Hyperparameters = new TrainingHyperparameters
            {
                Epochs = 50,
                LearningRate = 5e-3,
                MaxLength = 128,
                GlobalBatchSize = 8,
                MicroBatchSize = 4,
                Precision = PrecisionMode.Float32,
                CheckpointEverySteps = 25,
            },
        };

        var result = TrainingJob.Run(spec);
        var losses = result.History.Select(h => h.Loss).ToList();
        output.WriteLine(string.Join(" ", losses.Select(l => l.ToString("F3"))));
        Assert.Equal(50, result.Steps);
        Assert.InRange(losses[0], 6.0, 9.0); // ≈ ln(vocab) for a random model
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss went from {losses[0]} to {losses[^1]}");
        Assert.Equal(0.0, result.History[0].LearningRate); // HF warm-up starts at lr 0

        // The output is a loadable HF checkpoint with [PAD] added, and the job left resumable state.
        using var saved = HfCheckpoint.Load(dir.Path);
        Assert.Equal(saved.Tokenizer.Count, saved.Config.VocabSize);
        Assert.Equal(saved.Tokenizer.PadTokenId, saved.Config.PadTokenId);
        Assert.True(File.Exists(Path.Combine(dir.Path, "checkpoints", "checkpoint-50", CheckpointStore.StateFile)));
        Assert.True(File.Exists(Path.Combine(dir.Path, "training_result.json")));

        // Running the finished job again resumes at its last step and only re-saves.
        var again = TrainingJob.Run(spec);
        Assert.Equal(50, again.ResumedFromStep);
        Assert.Equal(losses, again.History.Select(h => h.Loss));
    }

    [Fact]
    public void Lora_job_in_bf16_trains_only_adapters_and_writes_merged_model_adapter_and_gguf()
    {
        using var dir = new TempDir("job-lora");
        var spec = new TrainingJobSpec
        {
            BaseModel = "tiny",
            DataPath = RepoPaths.Data("alpaca_data.json"),
            OutputDir = dir.Path,
            MaxRecords = 8,
            Device = "cpu",
            Threads = 2,
            Lora = new LoraSettings { R = 16, Alpha = 32, TargetModules = LoraSettings.KnownTargets },
            ExportGguf = GgufExportType.Q8_0,
            Hyperparameters = new TrainingHyperparameters
            {
                Epochs = 20,
                LearningRate = 3e-3,
                MaxLength = 128,
                GlobalBatchSize = 8,
                MicroBatchSize = 8,
                Precision = Trainer.Runtime.TorchRuntime.SupportsBFloat16(TorchSharp.torch.CPU) ? PrecisionMode.BFloat16 : PrecisionMode.Float32,
            },
        };

        var result = TrainingJob.Run(spec);
        output.WriteLine($"{result.Precision}: " + string.Join(" ", result.History.Select(h => h.Loss.ToString("F3"))));
        Assert.True(result.History[^1].Loss < result.History[0].Loss - 0.5, "LoRA training did not lower the loss");
        Assert.NotNull(result.AdapterDir);
        Assert.Equal(16, LoraAdapter.ReadSettings(result.AdapterDir!).R);
        using var merged = HfCheckpoint.Load(dir.Path);
        Assert.DoesNotContain(merged.Weights.Keys, LoraNames.IsAdapter);
        using var gguf = Alpaca.Llm.Gguf.GgufFile.Open(result.GgufPath!);
        Assert.Equal(merged.Config.VocabSize, Alpaca.Llm.Tokenizers.LlamaVocabulary.FromGguf(gguf.Metadata)!.Count);
    }
}
