namespace Alpaca.Trainer.Training;

/// <summary>Numeric precision of training.</summary>
public enum PrecisionMode
{
    /// <summary>bf16 mixed precision where the device supports it, fp32 otherwise.</summary>
    Auto,
    Float32,
    /// <summary>bf16 compute with fp32 master weights, fp32 gradient accumulation and fp32 AdamW state.</summary>
    BFloat16,
}

/// <summary>
/// Training hyper-parameters. Defaults are the README command of stanford_alpaca's train.py for
/// LLaMA-7B (HF Trainer defaults elsewhere): 3 epochs, lr 2e-5, global batch 128, max length 512,
/// cosine schedule with 3% warm-up, weight decay 0, AdamW β (0.9, 0.999), ε 1e-8, clipping at 1.0,
/// seed 42, bf16 where supported.
/// </summary>
public sealed record TrainingHyperparameters
{
    public int Epochs { get; init; } = 3;
    public double LearningRate { get; init; } = 2e-5;

    /// <summary>Examples per optimizer step, reached by gradient accumulation over micro-batches.</summary>
    public int GlobalBatchSize { get; init; } = 128;

    /// <summary>Examples (or packed rows) per forward pass; only memory and speed depend on it.</summary>
    public int MicroBatchSize { get; init; } = 4;

    public int MaxLength { get; init; } = 512;
    public double WarmupRatio { get; init; } = 0.03;
    public double WeightDecay { get; init; }
    public double MaxGradNorm { get; init; } = 1.0;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;
    public ulong Seed { get; init; } = 42;
    public PrecisionMode Precision { get; init; } = PrecisionMode.Auto;

    /// <summary>Save a resumable checkpoint every N optimizer steps (and after the last one).</summary>
    public int CheckpointEverySteps { get; init; } = 50;

    /// <summary>How many resumable checkpoints to keep (oldest removed first).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    public bool GroupByLength { get; init; }
    public bool Packing { get; init; }

    /// <summary>Stop after this many optimizer steps (0 = epochs decide); the schedule spans these steps, as in HF.</summary>
    public int MaxSteps { get; init; }

    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }

        Check(Epochs > 0, $"epochs must be positive, got {Epochs}.");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be positive, got {LearningRate}.");
        Check(GlobalBatchSize > 0, $"global batch size must be positive, got {GlobalBatchSize}.");
        Check(MicroBatchSize > 0, $"micro-batch size must be positive, got {MicroBatchSize}.");
        Check(MaxLength >= 2, $"max length must be at least 2, got {MaxLength}.");
        Check(WarmupRatio is >= 0 and <= 1, $"warm-up ratio must be in [0, 1], got {WarmupRatio}.");
        Check(WeightDecay >= 0, $"weight decay must not be negative, got {WeightDecay}.");
        Check(MaxGradNorm > 0, $"max grad norm must be positive, got {MaxGradNorm}.");
        Check(AdamBeta1 is >= 0 and < 1 && AdamBeta2 is >= 0 and < 1, "AdamW betas must be in [0, 1).");
        Check(AdamEpsilon > 0, $"AdamW epsilon must be positive, got {AdamEpsilon}.");
        Check(CheckpointEverySteps > 0, $"checkpoint interval must be positive, got {CheckpointEverySteps}.");
        Check(KeepCheckpoints > 0, $"checkpoints to keep must be positive, got {KeepCheckpoints}.");
        Check(MaxSteps >= 0, $"max steps must not be negative, got {MaxSteps}.");
    }
}
