using Alpaca.Trainer.Data;
using Alpaca.Trainer.Model;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Alpaca.Trainer.Training;

/// <summary>
/// The causal-LM loss of HF <c>LlamaForCausalLM</c> (hidden state at t predicts token t+1, −100
/// ignored), as a SUM over learned tokens so that micro-batches add up to the global-batch sum.
/// Only positions with a learned target go through the LM head: prompt and padding positions would be
/// ignored by the loss anyway, and the head is the widest matmul of a small model.
/// </summary>
public static class CausalLmLoss
{
    public static Tensor Sum(LlamaForCausalLM model, MicroBatch batch, Device device)
    {
        using var scope = NewDisposeScope();
        var ids = tensor(batch.InputIds, device: device).view(batch.Rows, batch.Columns);
        Tensor? positions = batch.PositionIds is null ? null : tensor(batch.PositionIds, device: device).view(batch.Rows, batch.Columns);
        var mask = batch.SegmentIds is null ? null : SegmentMask(batch, device);

        var hidden = model.HiddenStates(ids, positions, mask);
        var trainedPositions = batch.TrainedPositions();
        if (trainedPositions.Length == 0)
        {
            // Keep the graph connected so backward() is valid; the gradient is zero.
            return (hidden.sum() * 0.0f).to(ScalarType.Float32).MoveToOuterDisposeScope();
        }

        var width = hidden.shape[2];
        var shifted = hidden.narrow(1, 0, batch.Columns - 1).reshape(-1, width);
        var selected = shifted.index_select(0, tensor(trainedPositions, device: device));
        var logits = model.Logits(selected).to(ScalarType.Float32);
        var targets = tensor(batch.TrainedTargets(), device: device);
        var loss = F.cross_entropy(logits, targets, reduction: nn.Reduction.Sum);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>[B, 1, T, T] boolean: query i may attend key j iff j ≤ i and both lie in the same example.</summary>
    public static Tensor SegmentMask(MicroBatch batch, Device device)
    {
        int rows = batch.Rows, t = batch.Columns;
        var allowed = new bool[rows * t * t];
        for (var r = 0; r < rows; r++)
        {
            var seg = batch.SegmentIds!.AsSpan(r * t, t);
            for (var i = 0; i < t; i++)
            {
                var rowStart = ((r * t) + i) * t;
                for (var j = 0; j <= i; j++)
                {
                    allowed[rowStart + j] = seg[i] == seg[j];
                }
            }
        }

        return tensor(allowed, device: device).view(rows, 1, t, t);
    }
}
