using Alpaca.Trainer.Lora;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>
/// Builds the bias-free linear projections of the model. With LoRA settings, the targeted projections
/// (by their HF short name, e.g. <c>q_proj</c>) become <see cref="LoraLinear"/>, which keeps the frozen
/// base weight under the same key (<c>…q_proj.weight</c>) and adds <c>lora_A</c>/<c>lora_B</c>.
/// Adapter initialisation draws from a generator seeded with <paramref name="seed"/>.
/// </summary>
public sealed class ProjectionFactory : IDisposable
{
    private readonly Generator? init_generator;

    public ProjectionFactory(LoraSettings? lora = null, ulong seed = 0)
    {
        lora?.Validate();
        Lora = lora;
        if (lora is not null)
        {
            init_generator = new Generator(seed, CPU);
        }
    }

    public LoraSettings? Lora { get; }

    /// <summary>The dropout stream all adapters share; the trainer reseeds it per micro-batch.</summary>
    public SeededDropout Dropout { get; } = new();

    public nn.Module<Tensor, Tensor> Create(string name, long inFeatures, long outFeatures) =>
        Lora is not null && Lora.TargetModules.Contains(name)
            ? new LoraLinear(inFeatures, outFeatures, Lora, Dropout, init_generator)
            : nn.Linear(inFeatures, outFeatures, hasBias: false);

    public void Dispose()
    {
        init_generator?.Dispose();
        Dropout.Dispose();
    }
}
