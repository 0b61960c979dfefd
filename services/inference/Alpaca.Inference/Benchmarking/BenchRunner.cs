using System.Diagnostics;
using Alpaca.Inference.Model;

namespace Alpaca.Inference.Benchmarking;

/// <summary>
/// One llama-bench style measurement: tokens/s of each repetition, and tokens per CPU-second of this
/// process (user + system time of all its threads): on a machine shared with other work wall-clock
/// rates mostly measure the neighbours, CPU time much less so (compare at one thread, where no worker
/// spins waiting for another).
/// </summary>
public sealed record BenchResult(string Test, int Tokens, IReadOnlyList<double> TokensPerSecond, IReadOnlyList<double>? TokensPerCpuSecond = null)
{
    public double Median => MedianOf(TokensPerSecond);

    /// <summary>Median tokens per CPU-second (0 when not measured).</summary>
    public double CpuMedian => MedianOf(TokensPerCpuSecond ?? []);

    private static double MedianOf(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? 0 : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Sample standard deviation, as llama-bench prints.</summary>
    public double StdDev
    {
        get
        {
            if (TokensPerSecond.Count < 2)
            {
                return 0;
            }

            var mean = TokensPerSecond.Average();
            return Math.Sqrt(TokensPerSecond.Sum(v => (v - mean) * (v - mean)) / (TokensPerSecond.Count - 1));
        }
    }
}

/// <summary>
/// The two llama-bench tests. pp N: one batch of N random tokens on an empty sequence, logits of the last
/// only. tg N: N single-token decode steps from an empty sequence (no sampling, as llama-bench). One
/// untimed warm-up run precedes the repetitions; the sequence is freed after each.
/// </summary>
public static class BenchRunner
{
    public static BenchResult PromptProcessing(Transformer model, int tokens, int repetitions, int seed = 42)
    {
        var rng = new Random(seed);
        var batch = new Batch(tokens);
        var results = new List<double>();
        var cpu = new List<double>();
        for (var r = -1; r < repetitions; r++)
        {
            batch.Clear();
            var seq = model.Cache.Allocate();
            for (var i = 0; i < tokens; i++)
            {
                batch.Add(rng.Next(model.VocabSize), i, seq, i == tokens - 1);
            }

            var cpu0 = CpuSeconds();
            var sw = Stopwatch.StartNew();
            model.Forward(batch);
            var seconds = sw.Elapsed.TotalSeconds;
            var cpuSeconds = CpuSeconds() - cpu0;
            model.Cache.Free(seq);
            if (r >= 0)
            {
                results.Add(tokens / seconds);
                cpu.Add(tokens / cpuSeconds);
            }
        }

        return new BenchResult($"pp{tokens}", tokens, results, cpu);
    }

    public static BenchResult Generation(Transformer model, int tokens, int repetitions, int seed = 43)
    {
        var rng = new Random(seed);
        var batch = new Batch(1);
        var results = new List<double>();
        var cpu = new List<double>();
        for (var r = -1; r < repetitions; r++)
        {
            var seq = model.Cache.Allocate();
            var token = 1;
            var cpu0 = CpuSeconds();
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < tokens; i++)
            {
                batch.Clear();
                batch.Add(token, i, seq, true);
                model.Forward(batch);
                token = rng.Next(model.VocabSize);
            }

            var seconds = sw.Elapsed.TotalSeconds;
            var cpuSeconds = CpuSeconds() - cpu0;
            model.Cache.Free(seq);
            if (r >= 0)
            {
                results.Add(tokens / seconds);
                cpu.Add(tokens / cpuSeconds);
            }
        }

        return new BenchResult($"tg{tokens}", tokens, results, cpu);
    }

    private static double CpuSeconds() => ProcessCpuClock.Seconds();
}
