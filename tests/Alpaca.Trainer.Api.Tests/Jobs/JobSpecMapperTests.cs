using Alpaca.Contracts.V1;
using Alpaca.Trainer.Api.Jobs;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Training;
using CoreExport = Alpaca.Trainer.Training.GgufExportType;

namespace Alpaca.Trainer.Api.Tests.Jobs;

/// <summary>The contract's zero values are train.py's defaults; set values pass through unchanged.</summary>
public sealed class JobSpecMapperTests
{
    [Fact]
    public void Zero_values_mean_train_py_defaults_and_bf16_false_means_fp32()
    {
        var mapped = JobSpecMapper.Hyperparameters(new Hyperparameters());
        Assert.Equal(new TrainingHyperparameters { Precision = PrecisionMode.Float32 }, mapped);
        Assert.Equal((3, 2e-5, 128, 4, 512, 0.03, 1.0, 42UL, 50), (mapped.Epochs, mapped.LearningRate, mapped.GlobalBatchSize,
            mapped.MicroBatchSize, mapped.MaxLength, mapped.WarmupRatio, mapped.MaxGradNorm, mapped.Seed, mapped.CheckpointEverySteps));
        Assert.Equal(PrecisionMode.Auto, JobSpecMapper.Hyperparameters(new Hyperparameters { Bf16 = true }).Precision);
        Assert.Equal(2, JobSpecMapper.Hyperparameters(new Hyperparameters { GlobalBatchSize = 2 }).MicroBatchSize);
    }

    [Fact]
    public void Set_values_pass_through_including_explicit_zeros_of_optional_fields_and_invalid_ones()
    {
        var mapped = JobSpecMapper.Hyperparameters(new Hyperparameters
        {
            Epochs = 1,
            LearningRate = 1e-3,
            GlobalBatchSize = 16,
            MicroBatchSize = 8,
            MaxLength = 256,
            WarmupRatio = 0,
            WeightDecay = 0.1,
            MaxGradNorm = 0.5,
            Seed = 7,
            CheckpointEverySteps = 5,
            GroupByLength = true,
            Packing = true,
            MaxSteps = 9,
        });
        Assert.Equal(
            new TrainingHyperparameters
            {
                Epochs = 1,
                LearningRate = 1e-3,
                GlobalBatchSize = 16,
                MicroBatchSize = 8,
                MaxLength = 256,
                WarmupRatio = 0,
                WeightDecay = 0.1,
                MaxGradNorm = 0.5,
                Seed = 7,
                CheckpointEverySteps = 5,
                GroupByLength = true,
                Packing = true,
                MaxSteps = 9,
                Precision = PrecisionMode.Float32,
            },
            mapped);

        // A negative value is not replaced by a default: validation refuses it with the field's name.
        Assert.Equal(-2, JobSpecMapper.Hyperparameters(new Hyperparameters { Epochs = -2 }).Epochs);
    }

    [Fact]
    public void Lora_and_export_map_onto_the_core()
    {
        Assert.Null(JobSpecMapper.Lora(null));
        Assert.Null(JobSpecMapper.Lora(new LoraConfig { R = 4 }));
        var defaults = JobSpecMapper.Lora(new LoraConfig { Enabled = true })!;
        Assert.Equal((8, 16.0, 0.05, true), (defaults.R, defaults.Alpha, defaults.Dropout, defaults.MergeOnExport));
        Assert.Equal(LoraSettings.DefaultTargets, defaults.TargetModules);
        var set = JobSpecMapper.Lora(new LoraConfig { Enabled = true, R = 2, Alpha = 4, Dropout = 0, MergeOnExport = false, TargetModules = { "o_proj" } })!;
        Assert.Equal((2, 4.0, 0.0, false), (set.R, set.Alpha, set.Dropout, set.MergeOnExport));
        Assert.Equal(["o_proj"], set.TargetModules);

        Assert.Equal(CoreExport.None, JobSpecMapper.Export(Contracts.V1.GgufExportType.Unspecified));
        Assert.Equal(CoreExport.F32, JobSpecMapper.Export(Contracts.V1.GgufExportType.F32));
        Assert.Equal(CoreExport.Q4_0, JobSpecMapper.Export(Contracts.V1.GgufExportType.Q40));
        Assert.Throws<JobSpecException>(() => JobSpecMapper.Export((Contracts.V1.GgufExportType)99));
    }
}
