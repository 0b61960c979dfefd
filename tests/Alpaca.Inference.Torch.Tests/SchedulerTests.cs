using Alpaca.Inference.Sampling;
using Alpaca.Inference.Serving;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Torch.Tests;

/// <summary>The continuous-batching scheduler, unchanged, over the torch backend.</summary>
public sealed class SchedulerTests
{
    private static async Task<int[]> GreedyAsync(ContinuousBatchScheduler scheduler, int[] prompt, int tokens)
    {
        var request = new SequenceRequest { PromptTokens = prompt, MaxTokens = tokens, IgnoreEos = true, Sampling = SamplingParams.Greedy };
        Assert.Equal(SubmitOutcome.Accepted, scheduler.TrySubmit(request, CancellationToken.None, out var handle));
        var completion = await handle!.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(SequenceFinishReason.Length, completion.Finished.Reason);
        return [.. completion.TokenIds];
    }

    [Fact]
    public async Task Greedy_continuations_of_an_F32_model_are_the_cpu_engines()
    {
        var path = TestModels.Tiny(GgmlType.F32);
        using var cpu = BothBackends.Cpu(path);
        using var torch = BothBackends.Torch(path);
        using var onCpu = new ContinuousBatchScheduler(cpu);
        using var onTorch = new ContinuousBatchScheduler(torch);
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var prompt = BothBackends.Prompt(6 + (seed * 3), seed);
            var expected = await GreedyAsync(onCpu, prompt, 32);
            var actual = await GreedyAsync(onTorch, prompt, 32);
            var first = Enumerable.Range(0, expected.Length).FirstOrDefault(i => expected[i] != actual[i], -1);
            Assert.True(first < 0, $"prompt {seed}: the continuations part at token {first}: cpu {string.Join(' ', expected)}, torch {string.Join(' ', actual)}");
        }
    }

    [Fact]
    public async Task Requests_decoded_together_equal_requests_decoded_alone()
    {
        using var torch = BothBackends.Torch(TestModels.Tiny(GgmlType.Q8_0), slots: 4);
        var prompts = Enumerable.Range(1, 4).Select(i => BothBackends.Prompt(4 + (i * 5), 10 + i)).ToArray();
        int[][] alone;
        using (var one = new ContinuousBatchScheduler(torch, new SchedulerOptions { PrefillChunkTokens = 8 }))
        {
            alone = new int[prompts.Length][];
            for (var i = 0; i < prompts.Length; i++)
            {
                alone[i] = await GreedyAsync(one, prompts[i], 20);
            }
        }

        // Four at once, with a small prefill chunk so prompt chunks share steps with decode tokens.
        using var many = new ContinuousBatchScheduler(torch, new SchedulerOptions { PrefillChunkTokens = 8 });
        var together = await Task.WhenAll(prompts.Select(p => GreedyAsync(many, p, 20)));
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(alone[i], together[i]);
        }

        Assert.True(many.Steps < prompts.Length * 20, $"{many.Steps} steps: the requests were not batched");
    }
}
