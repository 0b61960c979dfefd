using Alpaca.Inference.Sampling;

namespace Alpaca.Inference.Tests.Sampling;

public class SamplerTests
{
    private static float[] Logits(params float[] v) => v;

    [Fact]
    public void Greedy_takes_the_argmax_and_the_lowest_id_on_ties()
    {
        var s = new Sampler(SamplingParams.Greedy, 5);
        Assert.Equal(3, s.Sample(Logits(0, 1, 2, 5, 4), false, out _));
        Assert.Equal(1, s.Sample(Logits(0, 5, 2, 5, 4), false, out _));
    }

    [Fact]
    public void The_same_seed_gives_the_same_tokens_and_another_seed_others()
    {
        var logits = Enumerable.Range(0, 100).Select(i => (float)Math.Sin(i)).ToArray();
        int[] Run(ulong seed)
        {
            var s = new Sampler(new SamplingParams { Temperature = 1.5f, Seed = seed }, 100);
            return Enumerable.Range(0, 50).Select(i => s.Sample(logits, false, out _)).ToArray();
        }

        Assert.Equal(Run(7), Run(7));
        Assert.NotEqual(Run(7), Run(8));
    }

    [Fact]
    public void Draws_follow_the_softmax_at_the_temperature()
    {
        // p ∝ exp(l / T) with T = 2: logits (0, 2, 4) → exp(0, 1, 2) / Σ.
        var s = new Sampler(new SamplingParams { Temperature = 2f, Seed = 1 }, 3);
        var counts = new int[3];
        const int n = 60000;
        for (var i = 0; i < n; i++)
        {
            counts[s.Sample(Logits(0, 2, 4), false, out _)]++;
        }

        var z = 1 + Math.E + Math.E * Math.E;
        double[] expected = [1 / z, Math.E / z, Math.E * Math.E / z];
        for (var i = 0; i < 3; i++)
        {
            // Five standard deviations of a binomial proportion.
            var sd = Math.Sqrt(expected[i] * (1 - expected[i]) / n);
            Assert.InRange(counts[i] / (double)n, expected[i] - 5 * sd, expected[i] + 5 * sd);
        }
    }

    [Fact]
    public void Top_k_top_p_and_min_p_cut_the_tail()
    {
        // Probabilities at T = 1: 0.5, 0.3, 0.15, 0.05.
        var logits = new[] { 0.5, 0.3, 0.15, 0.05 }.Select(p => (float)Math.Log(p)).ToArray();
        Assert.True(Draws(new SamplingParams { TopK = 2, Seed = 3 }, logits).All(t => t < 2));
        Assert.True(Draws(new SamplingParams { TopP = 0.75f, Seed = 3 }, logits).All(t => t < 2));
        Assert.Contains(2, Draws(new SamplingParams { TopP = 0.85f, Seed = 3 }, logits));
        Assert.True(Draws(new SamplingParams { MinP = 0.35f, Seed = 3 }, logits).All(t => t < 2)); // 0.15 < 0.35·0.5
        Assert.True(Draws(new SamplingParams { TopK = 1, Temperature = 5f, Seed = 3 }, logits).All(t => t == 0));

        // Top-p keeps the relative odds of what it keeps: 0.5 : 0.3.
        var kept = Draws(new SamplingParams { TopP = 0.75f, Seed = 9 }, logits, 40000);
        var ratio = kept.Count(t => t == 0) / (double)kept.Count(t => t == 1);
        Assert.InRange(ratio, 5.0 / 3 * 0.95, 5.0 / 3 * 1.05);
    }

    [Fact]
    public void Penalties_push_down_tokens_seen_in_the_window()
    {
        var logits = Logits(2.0f, 1.9f, -1f, -1.1f);
        var rep = new Sampler(SamplingParams.Greedy with { RepetitionPenalty = 1.1f }, 4);
        rep.Accept(0);
        Assert.Equal(1, rep.Sample(logits, false, out _)); // 2.0/1.1 < 1.9

        var freq = new Sampler(SamplingParams.Greedy with { FrequencyPenalty = 0.06f }, 4);
        freq.Accept([0, 0]);
        Assert.Equal(1, freq.Sample(logits, false, out _)); // 2.0 − 0.12 < 1.9
        var freqOnce = new Sampler(SamplingParams.Greedy with { FrequencyPenalty = 0.06f }, 4);
        freqOnce.Accept(0);
        Assert.Equal(0, freqOnce.Sample(logits, false, out _)); // 2.0 − 0.06 > 1.9

        var presence = new Sampler(SamplingParams.Greedy with { PresencePenalty = 0.2f }, 4);
        presence.Accept([0, 3]);
        Assert.Equal(1, presence.Sample(logits, false, out _));

        // Negative logits are multiplied (made more negative) by the repetition penalty.
        var negative = new Sampler(SamplingParams.Greedy with { RepetitionPenalty = 2f }, 4);
        negative.Accept([0, 1, 2]);
        Assert.Equal(3, negative.Sample(Logits(-1f, -1.5f, -0.9f, -1.2f), false, out _)); // −0.9·2 = −1.8 < −1.2

        // Only the last N tokens count.
        var window = new Sampler(SamplingParams.Greedy with { PresencePenalty = 0.2f, PenaltyLastN = 2 }, 4);
        window.Accept([0, 3, 3]);
        Assert.Equal(0, window.Sample(logits, false, out _));
    }

    [Fact]
    public void Log_probabilities_are_the_log_softmax_of_the_raw_logits()
    {
        var s = new Sampler(SamplingParams.Greedy with { TopLogProbs = 2, RepetitionPenalty = 3f }, 3);
        s.Accept(2);
        var token = s.Sample(Logits(1, 2, 3), true, out var lp);
        var z = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        Assert.Equal(token, lp!.Token);
        Assert.Equal(Math.Log(Math.Exp(new[] { 1.0, 2, 3 }[token])) - z, lp.LogProb, 5);
        Assert.Equal([2, 1], lp.Top.Select(t => t.Token));
        Assert.Equal(3 - z, lp.Top[0].LogProb, 5);
    }

    [Theory]
    [InlineData("Temperature")]
    [InlineData("TopP")]
    [InlineData("TopK")]
    [InlineData("MinP")]
    [InlineData("RepetitionPenalty")]
    public void Invalid_parameters_are_named(string field)
    {
        var p = field switch
        {
            "Temperature" => new SamplingParams { Temperature = -1 },
            "TopP" => new SamplingParams { TopP = 0 },
            "TopK" => new SamplingParams { TopK = -3 },
            "MinP" => new SamplingParams { MinP = 1.5f },
            _ => new SamplingParams { RepetitionPenalty = 0 },
        };
        Assert.Contains(field, Assert.Throws<ArgumentException>(() => p.Validate()).Message);
    }

    [Theory]
    [InlineData(0, 0.9f, 0f, 1.0f)]
    [InlineData(40, 1f, 0f, 0.8f)]
    [InlineData(40, 0.95f, 0.05f, 1.2f)]
    [InlineData(5, 0.5f, 0f, 0.7f)]
    [InlineData(0, 0.999f, 0f, 2.0f)]
    [InlineData(31999, 0.9f, 0f, 1.0f)]
    // The sampler sorts only the candidates that can survive top-k/top-p; it must draw exactly what a
    // sort of the whole 32000-token vocabulary draws, token for token, from the same random stream.
    public void Top_k_and_top_p_draw_exactly_what_a_full_sort_draws(int topK, float topP, float minP, float temperature)
    {
        var rng = new Random(topK + (int)(topP * 1000));
        for (var round = 0; round < 8; round++)
        {
            // Peaked (a few big logits over a long tail) and flat vocabularies, with tied values.
            var logits = new float[32000];
            for (var i = 0; i < logits.Length; i++)
            {
                logits[i] = round % 2 == 0 ? (float)(rng.NextDouble() * 2) : (float)Math.Round(rng.NextDouble() * 8, 1);
            }

            for (var i = 0; i < 20; i++)
            {
                logits[rng.Next(logits.Length)] += 12 * (float)rng.NextDouble();
            }

            var p = new SamplingParams { TopK = topK, TopP = topP, MinP = minP, Temperature = temperature, Seed = (ulong)(round + 1) };
            var sampler = new Sampler(p, logits.Length);
            var reference = new Xoshiro256StarStar((ulong)(round + 1));
            for (var draw = 0; draw < 10; draw++)
            {
                Assert.Equal(FullSortDraw(logits, p, reference), sampler.Sample(logits, false, out _));
            }
        }
    }

    // The sampler's algorithm with a full sort: softmax at T in double, top-k, top-p over the (top-k) mass,
    // min-p, then one uniform draw over what is left.
    private static int FullSortDraw(float[] logits, SamplingParams p, Xoshiro256StarStar rng)
    {
        var max = logits.Max();
        var c = logits.Select((l, i) => (Token: i, P: Math.Exp((l - max) * (1.0 / p.Temperature)))).ToList();
        var sum = c.Sum(x => x.P);
        c = [.. c.OrderByDescending(x => x.P).ThenBy(x => x.Token)];
        if (p.TopK > 0 && p.TopK < c.Count)
        {
            c = c.Take(p.TopK).ToList();
            sum = 0;
            foreach (var x in c)
            {
                sum += x.P;
            }
        }

        if (p.TopP < 1f)
        {
            var target = p.TopP * sum;
            var cumulative = 0.0;
            var keep = 0;
            while (keep < c.Count)
            {
                cumulative += c[keep++].P;
                if (cumulative >= target)
                {
                    break;
                }
            }

            c = c.Take(keep).ToList();
            sum = cumulative;
        }

        if (p.MinP > 0f)
        {
            var threshold = p.MinP * c.Max(x => x.P);
            c = c.Where(x => x.P >= threshold).ToList();
            sum = 0;
            foreach (var x in c)
            {
                sum += x.P;
            }
        }

        var u = rng.NextDouble() * sum;
        var acc = 0.0;
        foreach (var x in c)
        {
            acc += x.P;
            if (u < acc)
            {
                return x.Token;
            }
        }

        return c[^1].Token;
    }

    private static List<int> Draws(SamplingParams p, float[] logits, int n = 3000)
    {
        var s = new Sampler(p, logits.Length);
        return Enumerable.Range(0, n).Select(i => s.Sample(logits, false, out _)).ToList();
    }
}
