using Alpaca.Dedup.Pool;

namespace Alpaca.Dedup.Tests;

/// <summary>The incremental pool (what the service wraps) against the brute-force reference.</summary>
public sealed class PoolTests
{
    [Theory]
    [InlineData(1, 60)]
    [InlineData(2, 25)]
    [InlineData(3, 400)]
    public void Submit_equals_brute_force_on_near_duplicate_streams(int seed, int vocabulary)
    {
        var texts = new RandomTexts(seed, vocabulary).Take(700);
        var seeds = texts.Take(30).ToList();
        var expected = BruteForce.Greedy(seeds, texts.Skip(30));
        var pool = new DedupPool(seeds);
        var i = 0;
        foreach (var candidate in texts.Skip(30))
        {
            var d = pool.Submit(candidate);
            var e = expected[i++];
            Assert.True(e.Kept == d.Kept, $"candidate {i}: kept");
            Assert.True(GoldenTests.Bits(e.MaxF) == GoldenTests.Bits(d.MaxF), $"candidate {i}: max F {d.MaxF:R} vs {e.MaxF:R}");
            Assert.True(e.MostSimilar == d.MostSimilar, $"candidate {i}: most similar {d.MostSimilar} vs {e.MostSimilar}");
        }

        Assert.Contains(expected, e => !e.Kept);
        Assert.Contains(expected, e => e.Kept && e.MaxF > 0.6);
    }

    [Fact]
    public void Check_decides_without_inserting_and_sees_unknown_words()
    {
        var pool = new DedupPool(["Give three tips for staying healthy.", "Describe the structure of an atom."]);
        var check = pool.Check("Give three tips for staying wealthy.");
        Assert.False(check.Kept);
        Assert.Equal(BruteForce.F("Give three tips for staying wealthy.", "Give three tips for staying healthy."), check.MaxF);
        Assert.Equal(0, check.MostSimilar);
        Assert.Equal(-1, check.PoolPosition);
        Assert.Equal(2, pool.Count);

        var unrelated = pool.Check("Zebras xylophone quickly.");
        Assert.True(unrelated.Kept);
        Assert.Equal((0.0, 0), (unrelated.MaxF, unrelated.MostSimilar)); // all scores 0: argmax is the first
        var kept = pool.Submit("Describe the structure of a molecule.");
        Assert.Equal(2, kept.PoolPosition);
        Assert.Equal(1, kept.MostSimilar);
    }

    [Fact]
    public void Empty_token_less_and_huge_candidates_are_decided_without_exceptions()
    {
        var pool = new DedupPool(["Give three tips for staying healthy."]);
        var empty = pool.Submit("");
        Assert.Equal((true, 0.0, 0), (empty.Kept, empty.MaxF, empty.MostSimilar));
        var symbols = pool.Submit("¿¡ 你好 🙂 \uD800");
        Assert.Equal((true, 0.0, 0), (symbols.Kept, symbols.MaxF, symbols.MostSimilar));

        var random = new Random(3);
        var huge = string.Join(' ', Enumerable.Range(0, 10_000).Select(_ => "w" + random.Next(300)));
        Assert.True(pool.Submit(huge).Kept);
        var nearHuge = huge + " extra words";
        var d = pool.Check(nearHuge);
        Assert.False(d.Kept);
        Assert.Equal(3, d.MostSimilar);
        Assert.Equal(BruteForce.F(nearHuge, huge), d.MaxF);
        Assert.True(pool.Check("Give three tips for staying healthy. " + huge[..40]).MaxF > 0);

        var first = new DedupPool().Submit("anything at all");
        Assert.Equal((true, 0.0, -1, 0), (first.Kept, first.MaxF, first.MostSimilar, first.PoolPosition));
    }

    [Fact]
    public void Rebuilding_from_the_stored_ordered_pool_reproduces_the_same_decisions()
    {
        var texts = new RandomTexts(9).Take(900);
        var seeds = texts.Take(20).ToList();
        var original = new DedupPool(seeds);
        foreach (var t in texts.Skip(20).Take(600))
        {
            original.Submit(t);
        }

        // A restarted service re-adds the seeds and the kept instructions in order.
        var rebuilt = new DedupPool(original.Instructions);
        Assert.Equal(original.Instructions, rebuilt.Instructions);
        foreach (var t in texts.Skip(620))
        {
            Assert.Equal(Flatten(original.Check(t, withExtras: true)), Flatten(rebuilt.Check(t, withExtras: true)));
            Assert.Equal(original.Submit(t), rebuilt.Submit(t));
        }
    }

    private static string Flatten(DedupDecision d) =>
        $"{d.Kept} {d.MaxF:R} {d.MostSimilar} {d.PoolPosition} {d.Extras?.AverageSimilarity:R} " +
        string.Join(",", d.Extras?.MostSimilar.Select(s => $"{s.Position}:{s.Score:R}") ?? []);

    [Fact]
    public async Task Readers_check_concurrently_while_a_writer_submits()
    {
        // The readers' words never occur in the writer's stream, so their answers cannot depend on timing:
        // any difference would come from shared scratch or from reading while the index changes.
        var pool = new DedupPool(["alpha beta gamma delta", "alpha beta gamma epsilon zeta"]);
        var probes = new[] { "alpha beta gamma delta eta", "zeta epsilon", "alpha", "beta gamma delta alpha" };
        var expected = probes.Select(p => pool.Check(p)).ToArray();
        using var started = new CountdownEvent(3);
        var writer = Task.Factory.StartNew(() =>
        {
            started.Wait(); // every reader is running before the pool starts changing
            foreach (var t in new RandomTexts(4).Take(3000))
            {
                pool.Submit(t);
            }
        }, TaskCreationOptions.LongRunning);
        var readers = Enumerable.Range(0, 3).Select(r => Task.Factory.StartNew(() =>
        {
            started.Signal();
            var k = 0;
            while (!writer.IsCompleted || k < 200)
            {
                var i = (k++ + r) % probes.Length;
                var d = pool.Check(probes[i]);
                Assert.Equal((expected[i].Kept, expected[i].MaxF, expected[i].MostSimilar), (d.Kept, d.MaxF, d.MostSimilar));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await writer;
        await Task.WhenAll(readers);
        Assert.True(pool.Count > 100);
    }

    [Fact]
    public void Thresholds_outside_0_to_1_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DedupPool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DedupPool(double.NaN));
        Assert.Throws<ArgumentException>(() => new DedupPool().Add("x", [-1]));
    }
}
