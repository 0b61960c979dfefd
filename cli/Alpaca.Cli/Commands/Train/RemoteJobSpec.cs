using Alpaca.Contracts.V1;
using Alpaca.Trainer.Training;
using ContractExport = Alpaca.Contracts.V1.GgufExportType;
using CoreExport = Alpaca.Trainer.Training.GgufExportType;

namespace Alpaca.Cli.Commands.Train;

/// <summary>
/// The local command's options as the trainer service's JobSpec, so <c>alpaca train --gateway</c> asks the
/// platform for exactly what the local run would do. Paths are made absolute: the service resolves them on its
/// machine (the same one for <c>alpaca up</c>; a shared volume in Kubernetes).
/// </summary>
internal static class RemoteJobSpec
{
    public static JobSpec From(TrainingJobSpec local, string? datasetId, string? modelName)
    {
        if (local.MaxRecords > 0)
        {
            throw new ArgumentException("--max-records is a local-mode option; with --gateway, submit a file that holds just those records.");
        }

        var hp = local.Hyperparameters;
        var spec = new JobSpec
        {
            OutputDir = string.IsNullOrWhiteSpace(local.OutputDir) ? "" : Path.GetFullPath(local.OutputDir),
            Device = local.Device,
            ModelName = modelName ?? "",
            ExportGguf = local.ExportGguf switch
            {
                CoreExport.F32 => ContractExport.F32,
                CoreExport.F16 => ContractExport.F16,
                CoreExport.Q8_0 => ContractExport.Q80,
                CoreExport.Q4_0 => ContractExport.Q40,
                _ => ContractExport.None,
            },
            Hyperparameters = new Hyperparameters
            {
                Epochs = hp.Epochs,
                LearningRate = hp.LearningRate,
                GlobalBatchSize = hp.GlobalBatchSize,
                MicroBatchSize = hp.MicroBatchSize,
                MaxLength = hp.MaxLength,
                WarmupRatio = hp.WarmupRatio,
                WeightDecay = hp.WeightDecay,
                MaxGradNorm = hp.MaxGradNorm,
                Seed = hp.Seed,
                // The contract's flag asks for bf16 where the device has it, which is what auto means locally.
                Bf16 = hp.Precision != PrecisionMode.Float32,
                CheckpointEverySteps = hp.CheckpointEverySteps,
                GroupByLength = hp.GroupByLength,
                Packing = hp.Packing,
                MaxSteps = hp.MaxSteps,
            },
        };

        if (string.Equals(local.BaseModel, "tiny", StringComparison.OrdinalIgnoreCase))
        {
            spec.BaseModelPreset = "tiny";
        }
        else
        {
            spec.BaseModelPath = Path.GetFullPath(local.BaseModel);
        }

        if (!string.IsNullOrEmpty(datasetId))
        {
            spec.DatasetId = datasetId;
        }
        else
        {
            spec.DatasetPath = Path.GetFullPath(local.DataPath);
        }

        if (local.Lora is { } lora)
        {
            spec.Lora = new LoraConfig { Enabled = true, R = lora.R, Alpha = lora.Alpha, Dropout = lora.Dropout, MergeOnExport = lora.MergeOnExport };
            spec.Lora.TargetModules.AddRange(lora.TargetModules);
        }

        return spec;
    }
}
