namespace Alpaca.Trainer.Lora;

/// <summary>
/// LoRA hyper-parameters. Defaults are alpaca-lora's (r 8, alpha 16, dropout 0.05 on q_proj and v_proj).
/// The update added to a frozen weight W is (alpha / r) · B·A.
/// </summary>
public sealed record LoraSettings
{
    public static readonly IReadOnlyList<string> DefaultTargets = ["q_proj", "v_proj"];

    /// <summary>Projection names LoRA may target (the HF short names).</summary>
    public static readonly IReadOnlyList<string> KnownTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public int R { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    public double Dropout { get; init; } = 0.05;
    public IReadOnlyList<string> TargetModules { get; init; } = DefaultTargets;

    /// <summary>Fold the adapters into the base weights of the exported HF checkpoint / GGUF.</summary>
    public bool MergeOnExport { get; init; } = true;

    public double Scaling => Alpha / R;

    public void Validate()
    {
        if (R <= 0)
        {
            throw new ArgumentException($"LoRA r must be positive, got {R}.");
        }

        if (Alpha <= 0)
        {
            throw new ArgumentException($"LoRA alpha must be positive, got {Alpha}.");
        }

        if (Dropout is < 0 or >= 1)
        {
            throw new ArgumentException($"LoRA dropout must be in [0, 1), got {Dropout}.");
        }

        if (TargetModules.Count == 0)
        {
            throw new ArgumentException("LoRA needs at least one target module.");
        }

        foreach (var target in TargetModules)
        {
            if (!KnownTargets.Contains(target))
            {
                throw new ArgumentException($"Unknown LoRA target module '{target}'; expected one of {string.Join(", ", KnownTargets)}.");
            }
        }
    }
}
