using static TorchSharp.torch;

namespace Alpaca.Trainer.Optim;

/// <summary>
/// AdamW exactly as <c>torch.optim.AdamW</c> (amsgrad off) computes it, over fp32 master weights:
///   p ← p·(1 − lr·λ);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
///   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
/// Written out (rather than using TorchSharp's) so that its state is ours to checkpoint by parameter
/// name, and so it can step master copies whose gradients live outside <c>.grad</c>.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly IReadOnlyList<TrainableParameter> _parameters;
    private readonly Dictionary<string, (Tensor ExpAvg, Tensor ExpAvgSq)> _state = new(StringComparer.Ordinal);

    public AdamW(IReadOnlyList<TrainableParameter> parameters, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.0)
    {
        this._parameters = parameters;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }
    public double WeightDecay { get; }

    /// <summary>Optimizer steps taken (t in the bias corrections).</summary>
    public long StepCount { get; private set; }

    public void Step(double learningRate)
    {
        StepCount++;
        var biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        var biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, StepCount));
        using var noGrad = no_grad();
        foreach (var p in _parameters)
        {
            var g = p.Gradient;
            if (g is null)
            {
                continue;
            }

            using var scope = NewDisposeScope();
            var (m, v) = StateFor(p);
            p.Master.mul_(1 - (learningRate * WeightDecay));
            m.mul_(Beta1).add_(g, alpha: 1 - Beta1);
            v.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
            var denominator = (v.sqrt() / biasCorrection2Sqrt).add_(Epsilon);
            p.Master.addcdiv_(m, denominator, value: -learningRate / biasCorrection1);
        }
    }

    /// <summary>Moment tensors by name, for checkpoints: <c>exp_avg/NAME</c>, <c>exp_avg_sq/NAME</c>.</summary>
    public Dictionary<string, Tensor> StateTensors()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, (m, v)) in _state)
        {
            result["exp_avg/" + name] = m;
            result["exp_avg_sq/" + name] = v;
        }

        return result;
    }

    public void LoadState(long stepCount, IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        StepCount = stepCount;
        using var noGrad = no_grad();
        foreach (var p in _parameters)
        {
            if (!tensors.TryGetValue("exp_avg/" + p.Name, out var m) || !tensors.TryGetValue("exp_avg_sq/" + p.Name, out var v))
            {
                if (stepCount == 0)
                {
                    continue;
                }

                throw new InvalidDataException($"{source}: no AdamW moments for '{p.Name}'.");
            }

            var (expAvg, expAvgSq) = StateFor(p);
            expAvg.copy_(m);
            expAvgSq.copy_(v);
        }
    }

    public void Dispose()
    {
        foreach (var (m, v) in _state.Values)
        {
            m.Dispose();
            v.Dispose();
        }
    }

    private (Tensor, Tensor) StateFor(TrainableParameter p)
    {
        if (!_state.TryGetValue(p.Name, out var s))
        {
            s = (zeros_like(p.Master).DetachFromDisposeScope(), zeros_like(p.Master).DetachFromDisposeScope());
            _state[p.Name] = s;
        }

        return s;
    }
}
