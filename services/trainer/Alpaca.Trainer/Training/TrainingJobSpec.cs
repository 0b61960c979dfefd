using Alpaca.Trainer.Lora;

namespace Alpaca.Trainer.Training;

/// <summary>GGUF weight types the export can write.</summary>
public enum GgufExportType
{
    None,
    F16,
    Q8_0,
    Q4_0,

    /// <summary>Unquantized (largest, exact weights); last so the older values keep their numbers.</summary>
    F32,
}

/// <summary>Everything a training job needs; the gRPC service maps its JobSpec onto this record.</summary>
public sealed record TrainingJobSpec
{
    /// <summary>A Hugging Face checkpoint folder, or <c>tiny</c> for the built-in random preset.</summary>
    public required string BaseModel { get; init; }

    /// <summary>Instruction data: alpaca_data.json format, or JSON Lines of the same records.</summary>
    public required string DataPath { get; init; }

    /// <summary>
    /// Output folder: the fine-tuned HF checkpoint (config, weights, tokenizer), <c>adapter/</c> with LoRA,
    /// <c>checkpoints/</c> (resumable state; a job re-run with the same folder resumes) and the GGUF export.
    /// </summary>
    public required string OutputDir { get; init; }

    public TrainingHyperparameters Hyperparameters { get; init; } = new();

    /// <summary>LoRA settings; null trains every weight.</summary>
    public LoraSettings? Lora { get; init; }

    public GgufExportType ExportGguf { get; init; } = GgufExportType.None;

    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Torch intra-op threads (0 = libtorch's default).</summary>
    public int Threads { get; init; }

    /// <summary>Use only the first N records (0 = all); for smoke runs.</summary>
    public int MaxRecords { get; init; }

    /// <summary>
    /// Called once the export is written (staged beside the output folder's files, <see cref="Export.StagedExport"/>)
    /// and right before it is moved into place; it throws to refuse the export, and then nothing of it lands. The
    /// trainer service confirms here that it still holds the job's lease (a fenced write), so a replica deposed
    /// while it exported does not replace the new holder's model. Null: every export is put in place.
    /// </summary>
    public Action? ConfirmExport { get; init; }

    public string CheckpointDir => Path.Combine(OutputDir, "checkpoints");

    public string AdapterDir => Path.Combine(OutputDir, "adapter");

    public string TinyBaseDir => Path.Combine(OutputDir, "base-tiny");
}

/// <summary>What a finished job produced.</summary>
public sealed record TrainingResult(
    string ModelDir,
    string? AdapterDir,
    string? GgufPath,
    long Steps,
    long ResumedFromStep,
    double FinalLoss,
    IReadOnlyList<LossRecord> History,
    string Precision,
    string Device);

/// <summary>Coarse phases of a job, for status displays (steps report through TrainingStepEvent).</summary>
public enum TrainingPhase
{
    Loading,
    Tokenizing,
    Training,
    Saving,
    Exporting,
    Done,
}
