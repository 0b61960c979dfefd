using System.Text.Json;
using Alpaca.Dedup.Pool;
using Alpaca.Dedup.Rouge;
using Alpaca.TestSupport;

namespace Alpaca.Dedup.Tests;

/// <summary>The golden files made with a faithful rouge_score 0.1.2 implementation, reproduced bit for bit.</summary>
public sealed class GoldenTests
{
    public static IEnumerable<JsonElement> Lines(string file) =>
        File.ReadLines(RepoPaths.Data(file)).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone());

    public static IReadOnlyList<string> Seeds() =>
        Lines("seed_tasks.jsonl").Select(e => e.GetProperty("instruction").GetString()!).ToList();

    [Fact]
    public void Every_public_pair_matches_rouge_score_bit_for_bit()
    {
        var count = 0;
        foreach (var row in Lines("rougeL_pairs_public.jsonl"))
        {
            var a = row.GetProperty("a").GetString()!;
            var b = row.GetProperty("b").GetString()!;
            var id = row.GetProperty("id").GetInt32();
            Assert.True(RougeTokenizer.Tokenize(a).Count == row.GetProperty("ntok_a").GetInt32(), $"pair {id}: tokens of a");
            Assert.True(RougeTokenizer.Tokenize(b).Count == row.GetProperty("ntok_b").GetInt32(), $"pair {id}: tokens of b");
            var score = RougeScore.Score(a, b);
            Assert.True(score.Lcs == row.GetProperty("lcs").GetInt32(), $"pair {id}: lcs {score.Lcs}");
            Assert.True(BitConverter.DoubleToInt64Bits(score.Precision) == BitConverter.DoubleToInt64Bits(row.GetProperty("precision").GetDouble()), $"pair {id}: precision {score.Precision:R}");
            Assert.True(BitConverter.DoubleToInt64Bits(score.Recall) == BitConverter.DoubleToInt64Bits(row.GetProperty("recall").GetDouble()), $"pair {id}: recall {score.Recall:R}");
            Assert.True(BitConverter.DoubleToInt64Bits(score.FMeasure) == BitConverter.DoubleToInt64Bits(row.GetProperty("fmeasure").GetDouble()), $"pair {id}: fmeasure {score.FMeasure:R} vs {row.GetProperty("fmeasure").GetDouble():R}");
            count++;
        }

        Assert.Equal(971, count);
    }

    [Fact]
    public void Every_stress_decision_max_f_and_most_similar_matches_the_reference()
    {
        var pool = new DedupPool(Seeds());
        var rows = Lines("dedup_stress_public.jsonl").ToList();
        var rejected = 0;
        foreach (var row in rows)
        {
            var index = row.GetProperty("index").GetInt32();
            var decision = pool.Submit(row.GetProperty("instruction").GetString()!);
            var expectedF = row.GetProperty("max_f_exact").GetDouble();
            Assert.True(decision.Kept == row.GetProperty("kept").GetBoolean(), $"candidate {index}: kept {decision.Kept}, max F {decision.MaxF:R}");
            Assert.True(BitConverter.DoubleToInt64Bits(decision.MaxF) == BitConverter.DoubleToInt64Bits(expectedF), $"candidate {index}: max F {decision.MaxF:R} vs {expectedF:R}");
            Assert.True(decision.MostSimilar == row.GetProperty("most_similar").GetInt32(), $"candidate {index}: most similar {decision.MostSimilar} vs {row.GetProperty("most_similar").GetInt32()}");
            rejected += decision.Kept ? 0 : 1;
        }

        Assert.Equal(1927, rows.Count);
        Assert.Equal(361, rejected);
        Assert.True(pool.Stats.PairsScored < pool.Stats.PairsTotal / 20, $"scored {pool.Stats.PairsScored} of {pool.Stats.PairsTotal} pairs");
    }

    [Fact]
    public void Extras_mode_makes_the_same_decisions_as_the_pruned_search()
    {
        var pruned = new DedupPool(Seeds());
        var full = new DedupPool(Seeds());
        foreach (var row in Lines("dedup_stress_public.jsonl").Take(400))
        {
            var instruction = row.GetProperty("instruction").GetString()!;
            var a = pruned.Submit(instruction);
            var b = full.Submit(instruction, withExtras: true);
            Assert.Equal(a.Kept, b.Kept);
            Assert.Equal(a.MaxF, b.MaxF);
            Assert.Equal(a.MostSimilar, b.MostSimilar);
            if (b.Kept)
            {
                var extras = b.Extras!;
                Assert.Equal(Math.Min(10, full.Count - 1), extras.MostSimilar.Count);
                Assert.Equal(b.MaxF, extras.MostSimilar[0].Score);
                Assert.True(extras.MostSimilar.Zip(extras.MostSimilar.Skip(1)).All(p => p.First.Score >= p.Second.Score));
                var brute = Enumerable.Range(0, full.Count - 1).Select(i => RougeScore.Score(instruction, full[i]).FMeasure).ToArray();
                Assert.Equal(brute.Average(), extras.AverageSimilarity, 12);
                Assert.Equal(brute.OrderDescending().Take(10), extras.MostSimilar.Select(s => s.Score));
            }
        }
    }
}
