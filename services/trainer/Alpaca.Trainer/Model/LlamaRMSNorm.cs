using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>
/// RMSNorm as in HF <c>LlamaRMSNorm</c>: normalise in fp32 (bf16 squares lose too much), cast back,
/// then scale. Key: <c>weight</c>.
/// </summary>
public sealed class LlamaRMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;

    public LlamaRMSNorm(long hiddenSize, double eps) : base(nameof(LlamaRMSNorm))
    {
        weight = new Parameter(ones(hiddenSize));
        this.eps = eps;
        RegisterComponents();
    }

    public Tensor Weight => weight;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.to(ScalarType.Float32);
        var variance = h.pow(2).mean([-1], keepdim: true);
        h = h * rsqrt(variance + eps);
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
