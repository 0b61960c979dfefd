namespace Alpaca.Trainer.Training;

/// <summary>Progress after one optimizer step; the service streams these to WatchJob callers.</summary>
/// <param name="Step">Optimizer steps done (1-based after the first).</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="Epoch">Fractional epoch (steps done / steps per epoch).</param>
/// <param name="Loss">Mean cross-entropy over the learned tokens of this step's global batch.</param>
/// <param name="LearningRate">The learning rate this step used.</param>
/// <param name="GradNorm">Total L2 gradient norm before clipping.</param>
/// <param name="Tokens">Non-padding tokens processed in this step.</param>
/// <param name="TokensPerSecond">Average since this process started (or resumed) training.</param>
/// <param name="Eta">Estimated time to the last step.</param>
/// <param name="CheckpointStep">Step of the newest resumable checkpoint (0 = none yet).</param>
public sealed record TrainingStepEvent(
    long Step,
    long TotalSteps,
    double Epoch,
    double Loss,
    double LearningRate,
    double GradNorm,
    long Tokens,
    double TokensPerSecond,
    TimeSpan Eta,
    long CheckpointStep);

/// <summary>One entry of the loss curve, kept in every checkpoint so a resumed run has the whole curve.</summary>
public sealed record LossRecord(long Step, double Loss, double LearningRate, double GradNorm, long Tokens);
