using static TorchSharp.torch;

namespace Alpaca.Trainer.Optim;

/// <summary><c>torch.nn.utils.clip_grad_norm_</c> (L2) over gradients that need not sit in <c>.grad</c>.</summary>
public static class GradientClipping
{
    /// <summary>Scales the gradients by min(1, max/(‖g‖ + 1e-6)) and returns the total norm before clipping.</summary>
    public static double ClipByTotalNorm(IEnumerable<Tensor> gradients, double maxNorm)
    {
        var list = gradients.ToList();
        if (list.Count == 0)
        {
            return 0;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var norms = stack(list.Select(g => g.to(ScalarType.Float32).norm()).ToArray());
        var total = norms.norm();
        var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0);
        foreach (var g in list)
        {
            g.mul_(coefficient.to(g.dtype));
        }

        return total.item<float>();
    }
}
