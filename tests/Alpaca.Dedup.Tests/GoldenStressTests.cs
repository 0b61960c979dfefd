using Alpaca.Dedup.Batch;
using Alpaca.Dedup.Pool;

namespace Alpaca.Dedup.Tests;

/// <summary>Every decision, max_f_exact and most_similar of dedup_stress_public.jsonl, through every engine path.</summary>
public sealed class GoldenStressTests
{
    private static void AssertMatches(GoldenTests.StressRow row, DedupDecision d, string path)
    {
        Assert.True(d.Kept == row.Kept, $"{path}: candidate {row.Index}: kept {d.Kept}, max F {d.MaxF:R}");
        Assert.True(GoldenTests.Bits(d.MaxF) == GoldenTests.Bits(row.MaxF), $"{path}: candidate {row.Index}: max F {d.MaxF:R} vs {row.MaxF:R}");
        Assert.True(d.MostSimilar == row.MostSimilar, $"{path}: candidate {row.Index}: most similar {d.MostSimilar} vs {row.MostSimilar}");
    }

    [Fact]
    public void The_incremental_pool_reproduces_every_stress_decision()
    {
        var rows = GoldenTests.Stress();
        var pool = new DedupPool(GoldenTests.Seeds());
        foreach (var row in rows)
        {
            AssertMatches(row, pool.Submit(row.Instruction), "pool");
        }

        Assert.Equal(1927, rows.Count);
        Assert.Equal(361, rows.Count(r => !r.Kept));
        Assert.Contains(rows, r => !r.Kept && r.MaxF == 0.7000000000000001);
        Assert.Equal(175 + 1927 - 361, pool.Count);
        Assert.True(pool.Stats.PairsScored < pool.Stats.PairsTotal / 50, $"scored {pool.Stats.PairsScored} of {pool.Stats.PairsTotal} pairs");
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 64)]
    [InlineData(2, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 500)]
    public void The_batch_reproduces_every_stress_decision(int threads, int blockSize)
    {
        var rows = GoldenTests.Stress();
        var result = GreedyDedup.Run(GoldenTests.Seeds(), rows.Select(r => r.Instruction).ToList(), new GreedyDedupOptions(Threads: threads, BlockSize: blockSize));
        for (var i = 0; i < rows.Count; i++)
        {
            AssertMatches(rows[i], result.Decisions[i], $"batch {threads}×{blockSize}");
        }

        Assert.Equal(175 + rows.Count - 361, result.Pool.Count);
        Assert.Equal(361, result.Stats.Decided - result.Stats.Kept);
    }

    [Fact]
    public void The_batch_with_alpaca_extras_reproduces_every_stress_decision()
    {
        var rows = GoldenTests.Stress();
        var result = GreedyDedup.Run(GoldenTests.Seeds(), rows.Select(r => r.Instruction).ToList(), new GreedyDedupOptions(AlpacaExtras: true, Threads: 2, BlockSize: 32));
        for (var i = 0; i < rows.Count; i++)
        {
            AssertMatches(rows[i], result.Decisions[i], "extras");
            Assert.Equal(rows[i].Kept, result.Decisions[i].Extras is not null);
        }
    }
}
