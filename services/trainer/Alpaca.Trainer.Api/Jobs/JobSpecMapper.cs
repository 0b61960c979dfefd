using Alpaca.Contracts.V1;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Training;
using CoreExport = Alpaca.Trainer.Training.GgufExportType;
using GgufExportType = Alpaca.Contracts.V1.GgufExportType;

namespace Alpaca.Trainer.Api.Jobs;

/// <summary>
/// The contract's JobSpec onto the trainer core's <see cref="TrainingJobSpec"/>. Zero values mean train.py's
/// defaults (the contract says so), except that <c>bf16 = false</c> means fp32: the field asks for bf16.
/// </summary>
public static class JobSpecMapper
{
    public static TrainingJobSpec ToTrainingSpec(JobSpec spec, string dataPath, string outputDir, string defaultDevice, int threads) => new()
    {
        BaseModel = spec.BaseModelCase == JobSpec.BaseModelOneofCase.BaseModelPreset ? spec.BaseModelPreset.Trim().ToLowerInvariant() : spec.BaseModelPath,
        DataPath = dataPath,
        OutputDir = outputDir,
        Hyperparameters = Hyperparameters(spec.Hyperparameters),
        Lora = Lora(spec.Lora),
        ExportGguf = Export(spec.ExportGguf),
        Device = string.IsNullOrWhiteSpace(spec.Device) ? defaultDevice : spec.Device,
        Threads = threads,
    };

    public static TrainingHyperparameters Hyperparameters(Hyperparameters? h)
    {
        var d = new TrainingHyperparameters();
        if (h is null)
        {
            return d;
        }

        var global = h.GlobalBatchSize != 0 ? h.GlobalBatchSize : d.GlobalBatchSize;
        return d with
        {
            // Non-zero values pass through as given, so a negative one fails validation instead of turning into a default.
            Epochs = h.Epochs != 0 ? h.Epochs : d.Epochs,
            LearningRate = h.LearningRate != 0 ? h.LearningRate : d.LearningRate,
            GlobalBatchSize = global,
            MicroBatchSize = h.MicroBatchSize != 0 ? h.MicroBatchSize : Math.Max(1, Math.Min(d.MicroBatchSize, global)),
            MaxLength = h.MaxLength != 0 ? h.MaxLength : d.MaxLength,
            WarmupRatio = h.HasWarmupRatio ? h.WarmupRatio : d.WarmupRatio,
            WeightDecay = h.WeightDecay,
            MaxGradNorm = h.HasMaxGradNorm ? h.MaxGradNorm : d.MaxGradNorm,
            Seed = h.Seed != 0 ? h.Seed : d.Seed,
            Precision = h.Bf16 ? PrecisionMode.Auto : PrecisionMode.Float32,
            CheckpointEverySteps = h.CheckpointEverySteps != 0 ? h.CheckpointEverySteps : d.CheckpointEverySteps,
            GroupByLength = h.GroupByLength,
            Packing = h.Packing,
            MaxSteps = h.MaxSteps,
        };
    }

    public static LoraSettings? Lora(LoraConfig? lora)
    {
        if (lora is null || !lora.Enabled)
        {
            return null;
        }

        var d = new LoraSettings();
        return d with
        {
            R = lora.R != 0 ? lora.R : d.R,
            Alpha = lora.Alpha != 0 ? lora.Alpha : d.Alpha,
            Dropout = lora.HasDropout ? lora.Dropout : d.Dropout,
            TargetModules = lora.TargetModules.Count > 0 ? [.. lora.TargetModules] : d.TargetModules,
            MergeOnExport = lora.HasMergeOnExport ? lora.MergeOnExport : d.MergeOnExport,
        };
    }

    public static CoreExport Export(GgufExportType type) => type switch
    {
        GgufExportType.Unspecified or GgufExportType.None => CoreExport.None,
        GgufExportType.F32 => CoreExport.F32,
        GgufExportType.F16 => CoreExport.F16,
        GgufExportType.Q80 => CoreExport.Q8_0,
        GgufExportType.Q40 => CoreExport.Q4_0,
        _ => throw new JobSpecException($"Unknown export_gguf value {(int)type}."),
    };
}
