using static TorchSharp.torch;

namespace Alpaca.Trainer.Lora;

/// <summary>
/// Dropout whose randomness comes from one explicit generator that the trainer reseeds from
/// (seed, optimizer step, micro-batch) before every forward pass. The masks of any step are then a
/// pure function of the run's seed, so a resumed job draws exactly the masks the killed one would have.
/// </summary>
public sealed class SeededDropout : IDisposable
{
    private Generator? generator;

    public void Reseed(ulong seed, Device device)
    {
        if (generator is null || generator.device.type != device.type)
        {
            generator?.Dispose();
            generator = new Generator(seed, device);
        }
        else
        {
            generator.manual_seed((long)(seed & long.MaxValue));
        }
    }

    /// <summary>x · mask / (1 − p) with mask ~ Bernoulli(1 − p), like torch.nn.Dropout in training mode.</summary>
    public Tensor Apply(Tensor x, double p)
    {
        if (generator is null)
        {
            throw new InvalidOperationException("Dropout used in training mode before the trainer seeded it.");
        }

        using var scope = NewDisposeScope();
        var keep = rand(x.shape, dtype: ScalarType.Float32, device: x.device, generator: generator).ge(p);
        return (x * keep.to(x.dtype) / (1.0 - p)).MoveToOuterDisposeScope();
    }

    public void Dispose() => generator?.Dispose();
}
