using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Optim;

/// <summary>
/// One parameter the optimizer updates. In fp32 training the master copy is the parameter itself.
/// In bf16 mixed precision the model computes in bf16 while an fp32 master copy and an fp32 gradient
/// accumulator carry the update (TorchSharp has no autocast, so this is the manual equivalent): small
/// updates like lr 2e-5 · g would vanish if added to bf16 weights directly.
/// </summary>
public sealed class TrainableParameter : IDisposable
{
    private Tensor? _accumulatedGrad;

    public TrainableParameter(string name, Parameter parameter)
    {
        Name = name;
        Parameter = parameter;
        IsMixed = parameter.dtype != ScalarType.Float32;
        Master = IsMixed ? parameter.detach().to(ScalarType.Float32).clone() : parameter;
    }

    public string Name { get; }

    public Parameter Parameter { get; }

    /// <summary>fp32 weights the optimizer steps (the parameter itself in fp32 training).</summary>
    public Tensor Master { get; }

    public bool IsMixed { get; }

    /// <summary>
    /// The fp32 gradient summed over the micro-batches of the current step (null before any). In fp32 this
    /// is a fresh handle to <c>.grad</c>: read it inside a dispose scope.
    /// </summary>
    public Tensor? Gradient => IsMixed ? _accumulatedGrad : Parameter.grad;

    /// <summary>After a micro-batch's backward: fold a bf16 gradient into the fp32 accumulator.</summary>
    public void AccumulateGradient()
    {
        if (!IsMixed)
        {
            return;
        }

        // Every access to .grad makes a new handle: the scope frees them (not the gradient itself).
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grad = Parameter.grad;
        if (grad is null)
        {
            return;
        }

        if (_accumulatedGrad is null)
        {
            _accumulatedGrad = grad.to(ScalarType.Float32).clone().DetachFromDisposeScope();
        }
        else
        {
            _accumulatedGrad.add_(grad.to(ScalarType.Float32));
        }

        grad.zero_();
    }

    /// <summary>After the optimizer step: copy the fp32 master into the bf16 weights the model uses.</summary>
    public void SyncModelFromMaster()
    {
        if (!IsMixed)
        {
            return;
        }

        using var noGrad = no_grad();
        Parameter.copy_(Master);
    }

    public void ZeroGradient()
    {
        using var scope = NewDisposeScope();
        Parameter.grad?.zero_();
        _accumulatedGrad?.zero_();
    }

    /// <summary>Restores the master weights from a checkpoint and refreshes the model copy.</summary>
    public void LoadMaster(Tensor value)
    {
        using var noGrad = no_grad();
        Master.copy_(value);
        SyncModelFromMaster();
    }

    public void Dispose()
    {
        _accumulatedGrad?.Dispose();
        if (IsMixed)
        {
            Master.Dispose();
        }
    }
}
