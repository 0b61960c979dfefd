using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Alpaca.Trainer.Lora;

/// <summary>
/// A bias-free linear layer with a low-rank update, as PEFT's <c>lora.Linear</c>:
/// y = x·Wᵀ + (alpha/r) · B(A(dropout(x))). W keeps the base key (<c>weight</c>) and is frozen;
/// <c>lora_A.weight</c> [r, in] starts Kaiming-uniform (a = √5), <c>lora_B.weight</c> [out, r] starts at zero,
/// so an untrained adapter leaves the model unchanged.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    // PEFT's key names (lora_A, lora_B) carry a capital, which the snake_case field rule does not allow;
    // TorchSharp registers the fields under these names, so they must match the checkpoint keys exactly.
#pragma warning disable IDE1006
    private readonly Linear lora_A;
    private readonly Linear lora_B;
#pragma warning restore IDE1006

    public LoraLinear(long inFeatures, long outFeatures, LoraSettings settings, SeededDropout dropout, Generator? initGenerator = null) : base(nameof(LoraLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures), requires_grad: false);
        lora_A = nn.Linear(inFeatures, settings.R, hasBias: false);
        lora_B = nn.Linear(settings.R, outFeatures, hasBias: false);
        Scaling = settings.Scaling;
        DropoutProbability = settings.Dropout;
        Dropout = dropout;
        RegisterComponents();
        ResetAdapter(initGenerator);
    }

    public double Scaling { get; }

    public double DropoutProbability { get; }

    public SeededDropout Dropout { get; }

    public Parameter Weight => weight;

    public Parameter LoraA => lora_A.weight!;

    public Parameter LoraB => lora_B.weight!;

    /// <summary>PEFT's init: A ~ U(−1/√in, 1/√in) (kaiming_uniform with a = √5), B = 0.</summary>
    public void ResetAdapter(Generator? generator)
    {
        using var noGrad = no_grad();
        var bound = 1.0 / Math.Sqrt(LoraA.shape[1]);
        LoraA.uniform_(-bound, bound, generator);
        LoraB.zero_();
    }

    /// <summary>The dense update (alpha/r)·B·A in fp32, the shape of the base weight.</summary>
    public Tensor Delta()
    {
        using var scope = NewDisposeScope();
        var delta = LoraB.detach().to(ScalarType.Float32).matmul(LoraA.detach().to(ScalarType.Float32)) * Scaling;
        return delta.MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var output = F.linear(x, weight);
        var adapterInput = training && DropoutProbability > 0 ? Dropout.Apply(x, DropoutProbability) : x;
        output = output + (lora_B.forward(lora_A.forward(adapterInput)) * Scaling);
        return output.MoveToOuterDisposeScope();
    }
}
