using Alpaca.Llm.Models;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Training;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Alpaca.Trainer.Tests.Data;

public sealed class BatchingTests
{
    private const int Pad = 0;

    [Fact]
    public void Collator_right_pads_ids_with_pad_and_labels_with_ignore_index()
    {
        var a = new SupervisedExample([1, 7, 8, 2], [-100, -100, 8, 2], 2);
        var b = new SupervisedExample([1, 9, 2], [-100, 9, 2], 1);
        var batch = BatchBuilder.Padded([a, b], padId: 5);
        Assert.Equal((2, 4), (batch.Rows, batch.Columns));
        Assert.Equal(new long[] { 1, 7, 8, 2, 1, 9, 2, 5 }, batch.InputIds);
        Assert.Equal(new long[] { -100, -100, 8, 2, -100, 9, 2, -100 }, batch.Labels);
        Assert.Equal(7, batch.RealTokens);
        // Shifted: position t predicts label t+1. Row 0: t=1→8, t=2→2. Row 1 (width 3 after shift): t=0→9, t=1→2.
        Assert.Equal(new long[] { 1, 2, 3, 4 }, batch.TrainedPositions());
        Assert.Equal(new long[] { 8, 2, 9, 2 }, batch.TrainedTargets());
    }

    [Fact]
    public void Packing_fills_rows_first_fit_decreasing_and_restarts_positions()
    {
        var lengths = new[] { 6, 3, 5, 2, 4 };
        var examples = lengths.Select(n => new SupervisedExample(Enumerable.Range(10, n).ToArray(), Enumerable.Range(10, n).ToArray(), 0)).ToList();
        var batches = BatchBuilder.Build(examples, microBatchSize: 8, Pad, groupByLength: false, packing: true, maxLength: 8);
        var batch = Assert.Single(batches);
        // FFD into rows of 8: [6,2], [5,3], [4].
        Assert.Equal(3, batch.Rows);
        Assert.Equal(8, batch.Columns);
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 0, 1, 1 }, batch.SegmentIds!.AsSpan(0, 8).ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 0, 1 }, batch.PositionIds!.AsSpan(0, 8).ToArray());
        Assert.Equal(new[] { 0, 0, 0, 0, -1, -1, -1, -1 }, batch.SegmentIds!.AsSpan(16, 8).ToArray());
        Assert.Equal(-100, batch.Labels[6]); // an example's first token is never a target
        Assert.Equal(20, batch.RealTokens);
    }

    [Fact]
    public void Loss_equals_hugging_face_mean_over_learned_tokens_of_the_padded_batch()
    {
        var config = TinyModels.Config();
        using var model = TinyModels.Create(config);
        var examples = SyntheticData.Examples(6, config.VocabSize, 12, seed: 3).Examples;
        var batch = BatchBuilder.Padded(examples, Pad);
        using var _ = no_grad();
        using var sum = CausalLmLoss.Sum(model, batch, CPU);
        var ours = sum.item<float>() / batch.TrainedPositions().Length;

        // HF LlamaForCausalLM: logits[:, :-1] vs labels[:, 1:], cross-entropy mean with ignore_index −100.
        using var ids = tensor(batch.InputIds).view(batch.Rows, batch.Columns);
        using var labels = tensor(batch.Labels).view(batch.Rows, batch.Columns);
        using var logits = model.forward(ids);
        using var hf = F.cross_entropy(
            logits.narrow(1, 0, batch.Columns - 1).reshape(-1, config.VocabSize),
            labels.narrow(1, 1, batch.Columns - 1).reshape(-1));
        Assert.Equal(hf.item<float>(), ours, 5);
    }

    [Theory]
    [InlineData(1, false, false)]
    [InlineData(3, false, false)]
    [InlineData(3, true, false)]
    [InlineData(2, false, true)]
    public void Gradient_of_a_step_does_not_depend_on_micro_batching_grouping_or_packing(int micro, bool group, bool pack)
    {
        var config = TinyModels.Config();
        var examples = SyntheticData.Examples(8, config.VocabSize, 14, seed: 4).Examples;
        var (refLoss, refGrads) = StepGradient(config, BatchBuilder.Build(examples, 8, Pad, false, false, 32));
        var (loss, grads) = StepGradient(config, BatchBuilder.Build(examples, micro, Pad, group, pack, 32));

        // Only the summation order differs: fp32 rounding, ~1e-7 relative.
        Assert.Equal(refLoss, loss, 5);
        foreach (var (name, g) in refGrads)
        {
            Assert.True(g.allclose(grads[name], rtol: 1e-4, atol: 1e-6), name);
        }
    }

    private static (double Loss, Dictionary<string, Tensor> Grads) StepGradient(LlamaConfig config, List<MicroBatch> batches)
    {
        using var model = TinyModels.Create(config);
        var learned = batches.Sum(b => b.TrainedPositions().Length);
        double loss = 0;
        foreach (var b in batches)
        {
            using var l = CausalLmLoss.Sum(model, b, CPU) / learned;
            l.backward();
            loss += l.item<float>();
        }

        return (loss, model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
    }

    [Fact]
    public void Data_order_is_a_seeded_permutation_per_epoch()
    {
        var a = DataOrder.Permutation(100, 42, 0);
        Assert.Equal(a, DataOrder.Permutation(100, 42, 0));
        Assert.NotEqual(a, DataOrder.Permutation(100, 42, 1));
        Assert.NotEqual(a, DataOrder.Permutation(100, 43, 0));
        Assert.Equal(Enumerable.Range(0, 100), a.OrderBy(x => x));
        Assert.Equal(3, DataOrder.StepsPerEpoch(10, 4));
        Assert.Equal(a.AsSpan(96, 4).ToArray(), DataOrder.GlobalBatch(a, 3, 32));
    }
}
