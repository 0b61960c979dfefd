namespace Alpaca.Trainer.Lora;

/// <summary>How LoRA parameters are named, here and in PEFT adapter files.</summary>
public static class LoraNames
{
    /// <summary>PEFT saves adapter keys under this prefix (<c>base_model.model.model.layers.0…lora_A.weight</c>).</summary>
    public const string PeftPrefix = "base_model.model.";

    public static bool IsAdapter(string parameterName) =>
        parameterName.Contains(".lora_A.", StringComparison.Ordinal) || parameterName.Contains(".lora_B.", StringComparison.Ordinal);
}
