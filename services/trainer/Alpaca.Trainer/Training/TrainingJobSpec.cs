using Alpaca.Llm.IO.Exports;
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
    /// The job's export fence: the export (staged in a generation folder of its own, <see cref="Export.StagedExport"/>)
    /// is confirmed here right before it is put in place, and the confirmed manifest is read back after the renames
    /// and when the job starts, so that the output folder ends with the newest confirmed export. The trainer service
    /// confirms with a fenced write under the job's lease, so a replica deposed while it exported does not replace
    /// the new holder's model. Null: every export is put in place.
    /// </summary>
    public IExportFence? ExportFence { get; init; }

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
    string Device)
{
    /// <summary>SHA-256 (hex) of the GGUF file as its export was confirmed; null without a GGUF. Not in training_result.json, which is part of that export.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? GgufSha256 { get; init; }
}

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
