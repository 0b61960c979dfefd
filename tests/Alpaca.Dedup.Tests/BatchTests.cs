using Alpaca.Dedup.Batch;
using Alpaca.Dedup.Pool;
using Alpaca.Reference;

namespace Alpaca.Dedup.Tests;

/// <summary>The parallel block batch keeps the serial greedy semantics exactly.</summary>
public sealed class BatchTests
{
    [Theory]
    [InlineData(1, 64, false)]
    [InlineData(2, 64, false)]
    [InlineData(2, 5, false)]
    [InlineData(4, 1, false)]
    [InlineData(2, 16, true)]
    [InlineData(1, 200, true)]
    public void The_batch_equals_brute_force(int threads, int blockSize, bool extras)
    {
        var texts = new RandomTexts(5, 50).Take(800);
        var seeds = texts.Take(20).ToList();
        var candidates = texts.Skip(20).ToList();
        var expected = BruteForce.Greedy(seeds, candidates);
        var result = GreedyDedup.Run(seeds, candidates, new GreedyDedupOptions(AlpacaExtras: extras, Threads: threads, BlockSize: blockSize));
        var position = seeds.Count;
        for (var i = 0; i < candidates.Count; i++)
        {
            var (e, d) = (expected[i], result.Decisions[i]);
            Assert.True(e.Kept == d.Kept, $"candidate {i}: kept");
            Assert.True(GoldenTests.Bits(e.MaxF) == GoldenTests.Bits(d.MaxF), $"candidate {i}: max F {d.MaxF:R} vs {e.MaxF:R}");
            Assert.True(e.MostSimilar == d.MostSimilar, $"candidate {i}: most similar {d.MostSimilar} vs {e.MostSimilar}");
            Assert.Equal(e.Kept ? position++ : -1, d.PoolPosition);
            if (extras && e.Kept)
            {
                var top = e.Scores.Select((s, k) => (s, k)).OrderByDescending(p => p.s).ThenBy(p => p.k).Take(10).Select(p => p.k);
                Assert.Equal(top, d.Extras!.MostSimilar.Select(s => s.Position));
                Assert.Equal(GoldenTests.Bits(NumpyMath.Mean(e.Scores)), GoldenTests.Bits(d.Extras.AverageSimilarity));
            }
            else
            {
                Assert.Null(d.Extras);
            }
        }

        Assert.Equal(position, result.Pool.Count);
        Assert.Contains(expected, e => !e.Kept);
    }

    [Fact]
    public void The_batch_equals_the_incremental_pool_without_seeds()
    {
        var candidates = new RandomTexts(8).Take(400);
        var result = GreedyDedup.Run([], candidates, new GreedyDedupOptions(Threads: 2, BlockSize: 8));
        var pool = new DedupPool();
        for (var i = 0; i < candidates.Count; i++)
        {
            var expected = pool.Submit(candidates[i]);
            Assert.Equal(expected, result.Decisions[i]);
        }

        Assert.Equal(-1, result.Decisions[0].MostSimilar);
        Assert.Equal(pool.Instructions, result.Pool);
    }

    [Fact]
    public void Counters_add_up()
    {
        var result = GreedyDedup.Run(GoldenTests.Seeds(), GoldenTests.Stress().Take(300).Select(r => r.Instruction).ToList());
        var s = result.Stats;
        Assert.Equal(300, s.Decided);
        Assert.Equal(Enumerable.Range(0, 300).Sum(i => 175L + result.Decisions.Take(i).Count(d => d.Kept)), s.PairsTotal);
        Assert.True(s.PairsScored <= s.PairsTouched);
        Assert.Equal(s.PairsTotal - s.PairsScored, s.PairsAvoided);
    }
}
