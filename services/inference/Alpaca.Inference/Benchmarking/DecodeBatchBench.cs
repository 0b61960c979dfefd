using System.Diagnostics;
using Alpaca.Inference.Model;

namespace Alpaca.Inference.Benchmarking;

/// <summary>One <c>alpaca bench --decode-batch</c> row: the cost of a decode step for B sequences.</summary>
/// <param name="Sequences">B: tokens per step, one per sequence.</param>
/// <param name="MsPerStep">Median wall milliseconds of a step.</param>
/// <param name="MsStdDev">Standard deviation of the steps' wall milliseconds.</param>
/// <param name="TokensPerSecond">B ÷ the median step.</param>
/// <param name="TokensPerCpuSecond">Tokens of the timed steps ÷ the process's CPU seconds over them.</param>
/// <param name="CpuMsPerStep">The process's CPU milliseconds per step (all threads; at one thread the robust figure on a shared machine).</param>
/// <param name="MeanContext">Mean positions a sequence attends to over the timed steps.</param>
/// <param name="PartMs">Mean milliseconds per step of each <see cref="ForwardPart"/>: CPU time at one thread, wall time at more (<paramref name="PartsAreCpu"/>).</param>
/// <param name="PoolWaitMs">Mean milliseconds per step the caller waited in the worker pool for other threads' chunks.</param>
public sealed record DecodeBatchResult(
    int Sequences, int Steps, double MsPerStep, double MsStdDev, double TokensPerSecond, double TokensPerCpuSecond,
    double CpuMsPerStep, double MeanContext, IReadOnlyDictionary<ForwardPart, double> PartMs, double PoolWaitMs, bool PartsAreCpu);

/// <summary>
/// The engine-level measurement behind the serving target "8 streams ≥ 4× one stream": B sequences, each
/// with its own KV context (prefilled with random tokens to lengths spread evenly over
/// [minContext, maxContext], the same mean for every B), then decode steps of one token per sequence,
/// every token's logits wanted — what the continuous-batching scheduler runs when B streams decode. Each
/// step is timed alone; two untimed steps warm up first. <c>-p 1,8,16</c> (one sequence's prompt of B
/// tokens) is close but not the same: it attends over one short context and wants one row of logits.
/// </summary>
public static class DecodeBatchBench
{
    private const int WarmupSteps = 2;

    /// <summary>Context positions a model needs for <see cref="Run"/> with these settings.</summary>
    public static int ContextNeeded(int maxContext, int steps) => maxContext + steps + WarmupSteps + 1;

    public static DecodeBatchResult Run(Transformer model, int sequences, int steps, int minContext, int maxContext, int seed = 44)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minContext, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxContext, minContext);
        var rng = new Random(seed);
        var slots = new int[sequences];
        Array.Fill(slots, -1);
        var lengths = new int[sequences];
        var batch = new Batch(Math.Max(sequences, maxContext));
        try
        {
            for (var i = 0; i < sequences; i++)
            {
                slots[i] = model.Cache.Allocate();
                lengths[i] = minContext + (int)Math.Round((maxContext - minContext) * (i + 0.5) / sequences);
                batch.Clear();
                for (var p = 0; p < lengths[i]; p++)
                {
                    batch.Add(rng.Next(model.VocabSize), p, slots[i], p == lengths[i] - 1);
                }

                model.Forward(batch);
            }

            // One thread: the parts in the thread's CPU time (immune to a busy machine); more: wall time.
            var profile = new ForwardProfile(threadCpu: model.Threads == 1);
            var stepMs = new List<double>();
            var contextSum = 0.0;
            var cpuSeconds = 0.0;
            var previous = model.Profile;
            var measuredWait = model.Workers.MeasureWait;
            try
            {
                for (var s = -WarmupSteps; s < steps; s++)
                {
                    batch.Clear();
                    for (var i = 0; i < sequences; i++)
                    {
                        batch.Add(rng.Next(model.VocabSize), lengths[i]++, slots[i], true);
                        contextSum += s >= 0 ? lengths[i] : 0;
                    }

                    if (s == 0)
                    {
                        profile.Reset();
                        model.Profile = profile;
                        model.Workers.MeasureWait = true;
                        model.Workers.WaitTicks = 0;
                    }

                    var cpu0 = ProcessCpuClock.Seconds();
                    var started = Stopwatch.GetTimestamp();
                    model.Forward(batch);
                    var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (s >= 0)
                    {
                        cpuSeconds += ProcessCpuClock.Seconds() - cpu0;
                        stepMs.Add(ms);
                    }
                }
            }
            finally
            {
                model.Profile = previous;
                model.Workers.MeasureWait = measuredWait;
            }

            var waitMs = model.Workers.WaitTicks * 1000.0 / Stopwatch.Frequency / steps;
            var median = Median(stepMs);
            var mean = stepMs.Average();
            var sd = stepMs.Count < 2 ? 0 : Math.Sqrt(stepMs.Sum(v => (v - mean) * (v - mean)) / (stepMs.Count - 1));
            var parts = ForwardProfile.Parts.ToDictionary(p => p, p => profile.Milliseconds(p) / steps);
            return new DecodeBatchResult(sequences, steps, median, sd, sequences * 1000.0 / median, sequences * steps / cpuSeconds,
                cpuSeconds * 1000 / steps, contextSum / (steps * (double)sequences), parts, waitMs, profile.ThreadCpu);
        }
        finally
        {
            foreach (var slot in slots)
            {
                if (model.Cache.IsAllocated(slot))
                {
                    model.Cache.Free(slot);
                }
            }
        }
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }
}
