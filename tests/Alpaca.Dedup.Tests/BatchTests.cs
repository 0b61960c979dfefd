using Alpaca.Dedup.Batch;
using Alpaca.Dedup.Pool;

namespace Alpaca.Dedup.Tests;

/// <summary>The two-phase batch dedup (prefix-filtered decisions, parallel exact max F) against the reference values.</summary>
public sealed class BatchTests
{
    [Fact]
    public void The_batch_run_reproduces_every_stress_decision_max_f_and_most_similar()
    {
        var rows = GoldenTests.Lines("dedup_stress_public.jsonl").ToList();
        var result = GreedyDedup.Run(GoldenTests.Seeds(), rows.Select(r => r.GetProperty("instruction").GetString()!).ToList());
        for (var i = 0; i < rows.Count; i++)
        {
            var d = result.Decisions[i];
            Assert.True(rows[i].GetProperty("kept").GetBoolean() == d.Kept, $"candidate {i}");
            Assert.True(BitConverter.DoubleToInt64Bits(rows[i].GetProperty("max_f_exact").GetDouble()) == BitConverter.DoubleToInt64Bits(d.MaxF), $"candidate {i}: {d.MaxF:R}");
            Assert.True(rows[i].GetProperty("most_similar").GetInt32() == d.MostSimilar, $"candidate {i}: most similar {d.MostSimilar}");
        }

        Assert.Equal(175 + rows.Count - 361, result.PoolSize);
    }

    [Fact]
    public void The_batch_run_equals_the_incremental_pool_on_near_duplicate_streams()
    {
        var random = new Random(5);
        var words = Enumerable.Range(0, 60).Select(i => "w" + i).ToArray();
        var texts = new List<string>();
        for (var i = 0; i < 1500; i++)
        {
            // Mix fresh sentences with edits of earlier ones, so many pairs sit near the 0.7 boundary.
            if (texts.Count > 0 && random.NextDouble() < 0.5)
            {
                var baseWords = texts[random.Next(texts.Count)].Split(' ').ToList();
                baseWords[random.Next(baseWords.Count)] = words[random.Next(words.Length)];
                if (random.NextDouble() < 0.5)
                {
                    baseWords.Insert(random.Next(baseWords.Count + 1), words[random.Next(words.Length)]);
                }

                texts.Add(string.Join(' ', baseWords));
            }
            else
            {
                texts.Add(string.Join(' ', Enumerable.Range(0, random.Next(1, 90)).Select(_ => words[(int)(Math.Pow(random.NextDouble(), 2) * words.Length)])));
            }
        }

        var seeds = texts.Take(20).ToList();
        var candidates = texts.Skip(20).ToList();
        var batch = GreedyDedup.Run(seeds, candidates, threads: 2);
        var pool = new DedupPool(seeds);
        for (var i = 0; i < candidates.Count; i++)
        {
            var expected = pool.Submit(candidates[i]);
            Assert.Equal(expected.Kept, batch.Decisions[i].Kept);
            Assert.Equal(expected.MaxF, batch.Decisions[i].MaxF);
            Assert.Equal(expected.MostSimilar, batch.Decisions[i].MostSimilar);
        }

        Assert.Contains(batch.Decisions, d => !d.Kept);
    }
}
