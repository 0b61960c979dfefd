using Alpaca.Inference.Model;
using Alpaca.Llm.Tensors;
using TorchSharp;

namespace Alpaca.Inference.Torch.Tests;

/// <summary>Batched forward passes (several sequences, decode and prompt chunks mixed) against one sequence at a time.</summary>
public sealed class BatchingTests
{
    [Fact]
    public void Mixed_batches_give_each_sequence_its_single_sequence_logits()
    {
        using var engine = BothBackends.Torch(TestModels.Tiny(GgmlType.F32));
        var model = engine.Model;
        var prompts = new[] { BothBackends.Prompt(9, 1), BothBackends.Prompt(5, 2), BothBackends.Prompt(14, 3) };
        var next = new[] { 17, 33, 250 };

        // Alone: each prompt, then one decode token, in a slot of its own.
        var alone = new List<float[]>();
        var batch = new Batch();
        for (var i = 0; i < prompts.Length; i++)
        {
            var s = model.Cache.Allocate();
            batch.Clear();
            batch.AddSequence(prompts[i], 0, s);
            alone.AddRange(BothBackends.Run(model, batch));
            batch.Clear();
            batch.Add(next[i], prompts[i].Length, s, logits: true);
            alone.AddRange(BothBackends.Run(model, batch));
            model.Cache.Free(s);
        }

        // Together: sequences 0 and 1 prefill in one batch; then 0 and 1 decode while 2 prefills in the
        // same batch (the scheduler's shape of a step), then 2 decodes with them.
        int s0 = model.Cache.Allocate(), s1 = model.Cache.Allocate(), s2 = model.Cache.Allocate();
        batch.Clear();
        batch.AddSequence(prompts[0], 0, s0);
        batch.AddSequence(prompts[1], 0, s1);
        var first = BothBackends.Run(model, batch);
        batch.Clear();
        batch.Add(next[0], prompts[0].Length, s0, logits: true);
        batch.Add(next[1], prompts[1].Length, s1, logits: true);
        batch.AddSequence(prompts[2], 0, s2);
        var second = BothBackends.Run(model, batch);
        batch.Clear();
        batch.Add(99, prompts[0].Length + 1, s0, logits: false);
        batch.Add(next[2], prompts[2].Length, s2, logits: true);
        var third = BothBackends.Run(model, batch);

        float[][] together = [first[0], second[0], first[1], second[1], second[2], third[0]];
        var (worst, scale, _) = BothBackends.Compare([.. alone], together);
        Assert.True(worst <= 1e-4 * scale, $"batched vs single: max |Δlogit| {worst} of scale {scale}");
    }

    [Fact]
    public void Decoding_allocates_no_tensor_that_outlives_its_step()
    {
        using var engine = BothBackends.Torch(TestModels.Tiny(GgmlType.Q8_0));
        var model = engine.Model;
        int a = model.Cache.Allocate(), b = model.Cache.Allocate();
        var batch = new Batch();
        batch.AddSequence(BothBackends.Prompt(8), 0, a);
        batch.AddSequence(BothBackends.Prompt(6, 4), 0, b);
        model.Forward(batch);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var step = 0; step < 10; step++)
        {
            batch.Clear();
            batch.Add(5 + step, 8 + step, a, logits: true);
            batch.Add(6 + step, 6 + step, b, logits: true);
            model.Forward(batch);
            Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }

        Assert.Equal(18, model.Cache.Length(a));
        Assert.Equal(16, model.Cache.Length(b));
    }

    [Fact]
    public void A_bad_batch_is_refused_before_the_cache_changes()
    {
        using var engine = BothBackends.Torch(TestModels.Tiny(GgmlType.F32), slots: 2);
        var model = engine.Model;
        var s = model.Cache.Allocate();
        var batch = new Batch();
        batch.AddSequence([5, 6, 7], 0, s);
        model.Forward(batch);
        batch.Clear();
        batch.Add(8, 5, s, logits: true); // a gap after position 2
        Assert.Throws<ArgumentException>(() => model.Forward(batch));
        batch.Clear();
        batch.Add(9999, 3, s, logits: true); // outside the vocabulary
        Assert.Throws<ArgumentException>(() => model.Forward(batch));
        Assert.Equal(3, model.Cache.Length(s));
    }
}
