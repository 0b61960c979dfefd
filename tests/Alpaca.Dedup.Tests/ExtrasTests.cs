using Alpaca.Dedup.Pool;
using Alpaca.Reference;

namespace Alpaca.Dedup.Tests;

/// <summary>Alpaca's most_similar_instructions and avg_similarity_score against brute force.</summary>
public sealed class ExtrasTests
{
    /// <summary>The top 10 by score (highest first, equal scores in pool order) and numpy's pairwise mean.</summary>
    private static void AssertExtras(double[] scores, DedupExtras extras)
    {
        var top = scores.Select((s, i) => (Score: s, Position: i)).OrderByDescending(p => p.Score).ThenBy(p => p.Position).Take(10).ToList();
        Assert.Equal(top.Select(p => p.Position), extras.MostSimilar.Select(s => s.Position));
        Assert.Equal(top.Select(p => GoldenTests.Bits(p.Score)), extras.MostSimilar.Select(s => GoldenTests.Bits(s.Score)));
        Assert.Equal(GoldenTests.Bits(NumpyMath.Mean(scores)), GoldenTests.Bits(extras.AverageSimilarity));
        Assert.Equal(scores.Average(), extras.AverageSimilarity, 12);
    }

    [Fact]
    public void Extras_of_kept_candidates_equal_brute_force_over_the_whole_pool()
    {
        var texts = new RandomTexts(21, 40).Take(500);
        var seeds = texts.Take(25).ToList();
        var expected = BruteForce.Greedy(seeds, texts.Skip(25));
        var pool = new DedupPool(seeds);
        var i = 0;
        foreach (var candidate in texts.Skip(25))
        {
            var d = pool.Submit(candidate, withExtras: true);
            var e = expected[i++];
            Assert.Equal((e.Kept, GoldenTests.Bits(e.MaxF), e.MostSimilar), (d.Kept, GoldenTests.Bits(d.MaxF), d.MostSimilar));
            if (d.Kept)
            {
                AssertExtras(e.Scores, d.Extras!);
                Assert.All(d.Extras!.MostSimilar, s => Assert.Equal(pool[s.Position], s.Instruction));
            }
            else
            {
                Assert.Null(d.Extras);
            }
        }
    }

    [Fact]
    public void Ties_at_the_tenth_place_keep_the_earlier_pool_positions()
    {
        var pool = new DedupPool(Enumerable.Range(0, 30).Select(i => $"alpha beta w{i}"));
        var d = pool.Check("alpha beta zz", withExtras: true);
        Assert.Equal(Enumerable.Range(0, 10), d.Extras!.MostSimilar.Select(s => s.Position));
    }
}
