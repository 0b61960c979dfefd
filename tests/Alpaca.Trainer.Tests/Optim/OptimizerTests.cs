using Alpaca.Trainer.Optim;
using Xunit;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Alpaca.Trainer.Tests.Optim;

public sealed class OptimizerTests
{
    [Fact]
    public void AdamW_matches_torch_optim_AdamW_step_for_step()
    {
        using var g = new Generator(5, CPU);
        using var ours = new Parameter(randn([6, 4], generator: g));
        using var theirs = new Parameter(ours.detach().clone());
        var trainable = new TrainableParameter("w", ours);
        using var adam = new AdamW([trainable], 0.9, 0.999, 1e-8, weightDecay: 0.1);
        using var reference = optim.AdamW([theirs], lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.1);

        for (var step = 0; step < 6; step++)
        {
            using var target = randn([6, 4], generator: g);
            foreach (var p in new[] { ours, theirs })
            {
                using var loss = (p - target).pow(3).abs().sum();
                loss.backward();
            }

            adam.Step(0.05);
            reference.step();
            ours.grad!.zero_();
            theirs.grad!.zero_();
            Assert.True(ours.allclose(theirs, rtol: 1e-6, atol: 1e-7), $"step {step}");
        }

        Assert.Equal(6, adam.StepCount);
    }

    [Fact]
    public void Clipping_matches_torch_clip_grad_norm()
    {
        using var g = new Generator(9, CPU);
        using var a = new Parameter(randn([3, 5], generator: g));
        using var b = new Parameter(randn([7], generator: g));
        using var loss = (a.pow(2).sum() * 3) + b.sum();
        loss.backward();
        var ours = new[] { a.grad!.clone(), b.grad!.clone() };

        var ourNorm = GradientClipping.ClipByTotalNorm(ours, 1.0);
        var theirNorm = nn.utils.clip_grad_norm_([a, b], 1.0);

        Assert.Equal(theirNorm, ourNorm, 4);
        Assert.True(ourNorm > 1.0);
        Assert.True(ours[0].allclose(a.grad!, rtol: 1e-6) && ours[1].allclose(b.grad!, rtol: 1e-6));

        // Below the threshold nothing changes.
        using var small = tensor(new float[] { 0.3f, 0.4f });
        Assert.Equal(0.5, GradientClipping.ClipByTotalNorm([small], 1.0), 6);
        Assert.Equal(new float[] { 0.3f, 0.4f }, small.data<float>().ToArray());
    }

    [Theory]
    // 12 steps, warm-up ⌈0.1·12⌉ = 2: λ(0) = 0, λ(1) = 1/2, λ(2) = 1, then 0.5·(1 + cos(π·(s−2)/10)).
    [InlineData(0, 0.0)]
    [InlineData(1, 0.5)]
    [InlineData(2, 1.0)]
    [InlineData(7, 0.5)]
    [InlineData(12, 0.0)]
    public void Cosine_schedule_matches_hugging_face_by_hand(long step, double multiplier)
    {
        var schedule = new CosineSchedule(2e-5, 12, 0.1);
        Assert.Equal(2, schedule.WarmupSteps);
        Assert.Equal(multiplier, schedule.Multiplier(step), 12);
        Assert.Equal(2e-5 * multiplier, schedule.LearningRate(step), 15);
    }

    [Fact]
    public void Alpaca_schedule_has_hf_warmup_length()
    {
        // 52,002 examples / 128 = 407 steps per epoch, 1,221 steps: warm-up ⌈36.63⌉ = 37.
        var schedule = new CosineSchedule(2e-5, 3 * 407, 0.03);
        Assert.Equal(37, schedule.WarmupSteps);
        Assert.Equal(2e-5, schedule.LearningRate(37), 15);
        Assert.Equal(0.5 * 2e-5 * (1 + Math.Cos(Math.PI * 592 / 1184)), schedule.LearningRate(37 + 592), 15);
    }

    [Fact]
    public void Mixed_precision_keeps_updates_that_bf16_weights_would_lose()
    {
        // 1 + 1e-4 is 1 in bf16 (8 mantissa bits); the fp32 master keeps every small step.
        using var weight = new Parameter(ones(4).to(ScalarType.BFloat16));
        using var trainable = new TrainableParameter("w", weight);
        Assert.True(trainable.IsMixed);
        using (var loss = (weight.to(ScalarType.Float32) * -1).sum())
        {
            loss.backward();
        }

        trainable.AccumulateGradient();
        Assert.Equal(0f, weight.grad!.abs().sum().to(ScalarType.Float32).item<float>());
        using var adam = new AdamW([trainable]);
        for (var i = 0; i < 10; i++)
        {
            adam.Step(1e-4); // Adam's first steps move by ≈ lr regardless of the gradient scale.
        }

        trainable.SyncModelFromMaster();
        Assert.Equal(1.0 + 1e-3, trainable.Master[0].item<float>(), 4);
        Assert.Equal(1.0f, weight[0].to(ScalarType.Float32).item<float>());
    }
}
