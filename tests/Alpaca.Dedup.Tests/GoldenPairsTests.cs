using Alpaca.Dedup.Rouge;

namespace Alpaca.Dedup.Tests;

/// <summary>Every record of rougeL_pairs_public.jsonl (made with a faithful rouge_score 0.1.2), bit for bit.</summary>
public sealed class GoldenPairsTests
{
    [Fact]
    public void Every_public_pair_matches_tokens_lcs_precision_recall_and_f_bit_for_bit()
    {
        var count = 0;
        foreach (var row in GoldenTests.Lines("rougeL_pairs_public.jsonl"))
        {
            var id = row.GetProperty("id").GetInt32();
            var a = row.GetProperty("a").GetString()!;
            var b = row.GetProperty("b").GetString()!;
            var vocabulary = new TokenVocabulary();
            var ta = vocabulary.Intern(a);
            var tb = vocabulary.Intern(b);
            Assert.True(ta.Length == row.GetProperty("ntok_a").GetInt32(), $"pair {id}: tokens of a");
            Assert.True(tb.Length == row.GetProperty("ntok_b").GetInt32(), $"pair {id}: tokens of b");
            Assert.Equal(RougeTokenizer.Tokenize(a), ta.Select(t => vocabulary[t]));
            var lcs = row.GetProperty("lcs").GetInt32();
            Assert.True(Lcs.BitParallel(ta, tb) == lcs, $"pair {id}: bit-parallel lcs");
            Assert.True(Lcs.Reference(ta, tb) == lcs, $"pair {id}: reference lcs");

            var score = RougeScore.Score(a, b);
            Assert.True(GoldenTests.Bits(score.Precision) == GoldenTests.Bits(row.GetProperty("precision").GetDouble()), $"pair {id}: precision {score.Precision:R}");
            Assert.True(GoldenTests.Bits(score.Recall) == GoldenTests.Bits(row.GetProperty("recall").GetDouble()), $"pair {id}: recall {score.Recall:R}");
            var f = row.GetProperty("fmeasure").GetDouble();
            Assert.True(GoldenTests.Bits(score.FMeasure) == GoldenTests.Bits(f), $"pair {id}: fmeasure {score.FMeasure:R} vs {f:R}");
            Assert.True(GoldenTests.Bits(RougeScore.F(lcs, ta.Length, tb.Length)) == GoldenTests.Bits(f), $"pair {id}: F from the lcs");
            count++;
        }

        Assert.Equal(971, count);
    }

    [Fact]
    public void The_boundary_pairs_include_rejections_at_0_7000000000000001()
    {
        var boundary = GoldenTests.Lines("rougeL_pairs_public.jsonl")
            .Where(r => r.GetProperty("kind").GetString()!.StartsWith("edge:boundary", StringComparison.Ordinal))
            .Select(r => RougeScore.Score(r.GetProperty("a").GetString()!, r.GetProperty("b").GetString()!).FMeasure)
            .ToList();
        Assert.NotEmpty(boundary);
        Assert.Contains(0.7000000000000001, boundary);
    }
}
