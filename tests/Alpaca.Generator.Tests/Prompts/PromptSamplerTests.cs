using Alpaca.Generator.Prompts;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Tests.Support;

namespace Alpaca.Generator.Tests.Prompts;

public class PromptSamplerTests
{
    [Fact]
    public void Same_seed_same_examples_and_each_prompt_has_distinct_seeds()
    {
        var a = new PromptSampler(TestData.Seeds, 3, seed: 42);
        var b = new PromptSampler(TestData.Seeds, 3, seed: 42);
        var c = new PromptSampler(TestData.Seeds, 3, seed: 43);
        var differ = 0;
        for (var round = 0; round < 50; round++)
        {
            for (var p = 0; p < 5; p++)
            {
                var x = a.Sample(round, p);
                Assert.Equal(x, b.Sample(round, p));
                Assert.Equal(3, x.Distinct().Count());
                differ += x.SequenceEqual(c.Sample(round, p)) ? 0 : 1;
            }
        }

        Assert.True(differ > 240, $"only {differ} of 250 prompts differ between seeds");
    }

    [Fact]
    public void Every_seed_gets_picked_about_equally()
    {
        var sampler = new PromptSampler(TestData.Seeds, 3, seed: 7);
        var counts = new Dictionary<string, int>();
        const int prompts = 17500;
        for (var i = 0; i < prompts; i++)
        {
            foreach (var s in sampler.Sample(i / 5, i % 5))
            {
                counts[s.Id] = counts.GetValueOrDefault(s.Id) + 1;
            }
        }

        // 175 seeds, 52,500 picks: 300 expected each; a binomial with sd ≈ 17 stays well inside ±100.
        Assert.Equal(175, counts.Count);
        Assert.All(counts.Values, n => Assert.InRange(n, 200, 400));
    }

    [Fact]
    public void Needs_enough_seeds()
    {
        var two = TestData.Seeds.Take(2).ToList();
        var e = Assert.Throws<GeneratorInputException>(() => new PromptSampler(two, 3, 1));
        Assert.Contains("3", e.Message);
    }
}
