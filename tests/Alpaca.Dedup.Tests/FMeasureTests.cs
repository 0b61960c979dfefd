using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Tests;

/// <summary>F = 2·P·R/(P+R) in doubles, in that order; the cases docs/dedup.md §1 (shared) works out.</summary>
public sealed class FMeasureTests
{
    [Fact]
    public void F_is_not_always_the_double_nearest_2L_over_m_plus_n()
    {
        // "a b c d" vs "a c e": L = 2, m = 4, n = 3.
        Assert.Equal(0.5714285714285715, RougeScore.Score("a b c d", "a c e").FMeasure);
        Assert.NotEqual(4.0 / 7, RougeScore.Score("a b c d", "a c e").FMeasure);
    }

    [Theory]
    [InlineData(7, 7, 13, 0.7000000000000001)] // 20L = 7(m+n), rounds up: rejected
    [InlineData(21, 23, 37, 0.6999999999999998)] // rounds down: kept
    public void Exactly_0_7_in_rationals_rounds_either_way(int lcs, int m, int n, double expected)
    {
        Assert.Equal(20 * lcs, 7 * (m + n));
        Assert.Equal(GoldenTests.Bits(expected), GoldenTests.Bits(RougeScore.F(lcs, m, n)));
        Assert.Equal(expected > 0.7, RougeScore.F(lcs, m, n) > 0.7);
    }

    [Fact]
    public void Away_from_the_equality_the_double_agrees_with_the_rational_test()
    {
        for (var m = 1; m <= 200; m++)
        {
            for (var n = 1; n <= 200; n++)
            {
                for (var lcs = 1; lcs <= Math.Min(m, n); lcs++)
                {
                    if (20 * lcs != 7 * (m + n))
                    {
                        Assert.Equal(20 * lcs > 7 * (m + n), RougeScore.F(lcs, m, n) > 0.7);
                    }
                }
            }
        }
    }

    [Fact]
    public void Empty_sides_score_zero()
    {
        Assert.Equal(default, RougeScore.Score("", "abc"));
        Assert.Equal(default, RougeScore.Score("abc", "!!"));
        Assert.Equal(0.0, RougeScore.F(0, 5, 5));
        var identical = RougeScore.Score("Give three tips.", "give THREE tips");
        Assert.Equal((1.0, 1.0, 1.0, 3), (identical.Precision, identical.Recall, identical.FMeasure, identical.Lcs));
    }
}
