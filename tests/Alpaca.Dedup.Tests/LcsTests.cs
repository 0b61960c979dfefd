using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Tests;

/// <summary>The bit-parallel LCS kernel against the plain dynamic programme.</summary>
public sealed class LcsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 12)]
    [InlineData(63, 40)]
    [InlineData(64, 64)]
    [InlineData(65, 70)]
    [InlineData(127, 30)]
    [InlineData(128, 128)]
    [InlineData(129, 200)]
    [InlineData(192, 9)]
    [InlineData(300, 5)]
    public void Bit_parallel_equals_the_dynamic_programme(int m, int n)
    {
        var random = new Random((m * 1000) + n);
        var masks = new CandidateMasks();
        for (var trial = 0; trial < 60; trial++)
        {
            var alphabet = random.Next(2, 30);
            var x = Enumerable.Range(0, m).Select(_ => random.Next(alphabet)).ToArray();
            masks.Load(x, alphabet);
            for (var k = 0; k < 3; k++)
            {
                var y = Enumerable.Range(0, n).Select(_ => random.Next(alphabet)).ToArray();
                Assert.Equal(Lcs.Reference(x, y), masks.Lcs(y));
                Assert.Equal(Lcs.Reference(y, x), Lcs.BitParallel(y, x));
            }
        }
    }

    [Fact]
    public void Ten_thousand_tokens_on_either_side()
    {
        var random = new Random(7);
        var x = Enumerable.Range(0, 10_000).Select(_ => random.Next(50)).ToArray();
        var y = Enumerable.Range(0, 3_000).Select(_ => random.Next(50)).ToArray();
        var expected = Lcs.Reference(x, y);
        Assert.Equal(expected, Lcs.BitParallel(x, y));
        Assert.Equal(expected, Lcs.BitParallel(y, x));
        Assert.Equal(10_000, Lcs.BitParallel(x, x));
    }

    [Fact]
    public void Reloading_masks_forgets_the_previous_candidate()
    {
        var masks = new CandidateMasks();
        masks.Load(Enumerable.Range(0, 100).ToArray(), 200); // multi-word
        masks.Load([1, 2, 3], 200);
        Assert.Equal(3, masks.Lcs([1, 2, 3]));
        Assert.Equal(0, masks.Lcs([4, 5, 99]));
        masks.Load([7, 8], 200);
        Assert.Equal(0, masks.Lcs([1, 2, 3]));
        masks.Load(Enumerable.Range(100, 70).ToArray(), 200);
        Assert.Equal(0, masks.Lcs([1, 2, 3, 7, 8]));
        Assert.Equal(2, masks.Lcs([150, 1, 160]));
    }

    [Fact]
    public void Unknown_tokens_in_the_candidate_match_nothing()
    {
        var masks = new CandidateMasks();
        masks.Load([0, -1, 1, -1], 4);
        Assert.Equal(4, masks.Length);
        Assert.Equal(2, masks.Lcs([0, 1, 2, 3]));
        Assert.Equal(0, new CandidateMasks().Lcs([1]));
    }
}
