using Alpaca.Llm.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Alpaca.Trainer.Model;

/// <summary>SwiGLU feed-forward (HF <c>LlamaMLP</c>): down_proj(silu(gate_proj(x)) * up_proj(x)).</summary>
public sealed class LlamaMLP : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> gate_proj;
    private readonly nn.Module<Tensor, Tensor> up_proj;
    private readonly nn.Module<Tensor, Tensor> down_proj;

    public LlamaMLP(LlamaConfig config, ProjectionFactory projections) : base(nameof(LlamaMLP))
    {
        gate_proj = projections.Create("gate_proj", config.Dim, config.FfnDim);
        up_proj = projections.Create("up_proj", config.Dim, config.FfnDim);
        down_proj = projections.Create("down_proj", config.FfnDim, config.Dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var hidden = F.silu(gate_proj.forward(x)) * up_proj.forward(x);
        return down_proj.forward(hidden).MoveToOuterDisposeScope();
    }
}
