namespace Alpaca.Trainer.Optim;

/// <summary>
/// HF <c>get_cosine_schedule_with_warmup</c> (num_cycles 0.5) with HF's warm-up length
/// ⌈warmup_ratio · total_steps⌉. The learning rate of optimizer step k (0-based) is base·λ(k); as in
/// HF, the very first step of a warm-up therefore runs at lr 0.
/// </summary>
public sealed record CosineSchedule(double BaseLearningRate, long TotalSteps, double WarmupRatio)
{
    public long WarmupSteps { get; } = (long)Math.Ceiling(TotalSteps * WarmupRatio);

    public double Multiplier(long step)
    {
        if (step < WarmupSteps)
        {
            return (double)step / Math.Max(1, WarmupSteps);
        }

        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * progress)));
    }

    public double LearningRate(long step) => BaseLearningRate * Multiplier(step);
}
