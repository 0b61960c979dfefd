using Alpaca.Dedup.Pool;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Tests;

/// <summary>The fast kernels against their plain references.</summary>
public sealed class KernelTests
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
    [InlineData(300, 5)]
    public void Bit_parallel_lcs_equals_the_dynamic_programme(int m, int n)
    {
        var random = new Random(m * 1000 + n);
        for (var trial = 0; trial < 50; trial++)
        {
            var alphabet = random.Next(2, 30);
            var x = Enumerable.Range(0, m).Select(_ => random.Next(alphabet)).ToArray();
            var y = Enumerable.Range(0, n).Select(_ => random.Next(alphabet)).ToArray();
            Assert.Equal(Lcs.Reference(x, y), Lcs.Compute(x, y));
            Assert.Equal(Lcs.Reference(y, x), Lcs.Compute(y, x));
        }
    }

    [Fact]
    public void Ten_thousand_token_instructions_are_scored_exactly()
    {
        var random = new Random(7);
        var x = Enumerable.Range(0, 10_000).Select(_ => random.Next(50)).ToArray();
        var y = Enumerable.Range(0, 3_000).Select(_ => random.Next(50)).ToArray();
        Assert.Equal(Lcs.Reference(x, y), Lcs.Compute(x, y));
        var text = string.Join(' ', x.Select(t => "w" + t));
        var pool = new DedupPool(["a short seed", text]);
        var decision = pool.Check(text + " extra");
        Assert.False(decision.Kept);
        Assert.Equal(1, decision.MostSimilar);
    }

    [Fact]
    public void Tokenizer_follows_python_lower_and_ascii_runs()
    {
        Assert.Equal(["write", "a", "poem", "about", "caf", "python3", "it", "s", "2023"], RougeTokenizer.Tokenize("Write a poem about café & Python3! It's 2023."));
        Assert.Equal(["i", "stanbul"], RougeTokenizer.Tokenize("İstanbul"));
        Assert.Equal(["kelvin"], RougeTokenizer.Tokenize("\u212Aelvin"));
        Assert.Equal(["na", "ve"], RougeTokenizer.Tokenize("naïve"));
        Assert.Equal(["a", "b"], RougeTokenizer.Tokenize("a\uD800b")); // a lone surrogate separates
        Assert.Empty(RougeTokenizer.Tokenize("¿¡ 你好 🙂 —"));
        Assert.Equal(["3", "14"], RougeTokenizer.Tokenize("3.14"));
    }

    [Fact]
    public void Token_less_and_empty_candidates_score_zero_and_are_kept()
    {
        var pool = new DedupPool(["Give three tips for staying healthy."]);
        var empty = pool.Submit("");
        Assert.True(empty.Kept);
        Assert.Equal(0.0, empty.MaxF);
        Assert.Equal(0, empty.MostSimilar);
        var symbols = pool.Submit("¿¡ 你好 🙂");
        Assert.True(symbols.Kept);
        Assert.Equal(0.0, RougeScore.Score("", "abc").FMeasure);
        var first = new DedupPool().Submit("anything at all");
        Assert.True(first.Kept);
        Assert.Equal(-1, first.MostSimilar);
    }

    [Fact]
    public void The_pruned_search_equals_brute_force_on_random_pools()
    {
        var random = new Random(11);
        var words = Enumerable.Range(0, 40).Select(i => "w" + i).ToArray();
        string Sentence() => string.Join(' ', Enumerable.Range(0, random.Next(1, 14)).Select(_ => words[(int)Math.Pow(random.NextDouble(), 2) * words.Length]));
        var pool = new DedupPool();
        var brute = new List<string>();
        for (var i = 0; i < 600; i++)
        {
            var candidate = Sentence();
            var scores = brute.Select(p => RougeScore.Score(candidate, p).FMeasure).ToList();
            var max = scores.Count == 0 ? 0 : scores.Max();
            var decision = pool.Submit(candidate);
            Assert.Equal(max, decision.MaxF);
            Assert.Equal(scores.Count == 0 ? -1 : scores.IndexOf(max), decision.MostSimilar);
            Assert.Equal(max <= 0.7, decision.Kept);
            if (decision.Kept)
            {
                brute.Add(candidate);
            }
        }
    }

    [Fact]
    public void Numpy_pairwise_sum_follows_numpys_blocking_and_beats_naive_rounding()
    {
        var random = new Random(3);
        var small = Enumerable.Range(0, 7).Select(_ => random.NextDouble()).ToArray();
        var sequential = 0.0;
        foreach (var v in small)
        {
            sequential += v;
        }

        Assert.Equal(sequential, NumpyMath.PairwiseSum(small)); // n < 8: a plain loop

        var large = Enumerable.Range(0, 1000).Select(_ => random.NextDouble()).ToArray();
        // n > 128 splits at n/2 rounded down to a multiple of 8 (numpy's pairwise_sum_DOUBLE).
        Assert.Equal(NumpyMath.PairwiseSum(large.AsSpan(0, 496)) + NumpyMath.PairwiseSum(large.AsSpan(496)), NumpyMath.PairwiseSum(large));

        var tenths = Enumerable.Repeat(0.1, 1000).ToArray();
        var naive = 0.0;
        foreach (var v in tenths)
        {
            naive += v;
        }

        Assert.True(Math.Abs(NumpyMath.PairwiseSum(tenths) - 100) < Math.Abs(naive - 100));
    }
}
