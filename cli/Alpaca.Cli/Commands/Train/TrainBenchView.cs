using System.Globalization;
using Alpaca.Trainer.Bench;
using Alpaca.Trainer.Runtime;

namespace Alpaca.Cli.Commands.Train;

/// <summary><c>alpaca train --bench</c>: the real training step on the 15M / 110M shapes, fp32 and bf16, against the matmul peak.</summary>
internal static class TrainBenchView
{
    public static int Run(IReadOnlyList<string> shapes, int steps, int threads)
    {
        foreach (var shape in shapes)
        {
            if (!TrainBenchmark.Shapes.ContainsKey(shape))
            {
                throw new ArgumentException($"Unknown benchmark shape '{shape}'; use {string.Join(", ", TrainBenchmark.Shapes.Keys)}.");
            }
        }

        TorchRuntime.Initialize(threads);

        // The matmul peak is probed before every row and once more at the end; the best probe is the
        // reference, so a co-tenant that slowed one probe does not inflate the percentages.
        var peaks = new List<MatmulPeak> { TrainBenchmark.MeasurePeak() };
        var precisions = TorchRuntime.SupportsBFloat16(TorchSharp.torch.CPU) ? new[] { false, true } : [false];
        var rows = new List<TrainBenchRow>();
        foreach (var shape in shapes)
        {
            foreach (var bf16 in precisions)
            {
                rows.Add(TrainBenchmark.Run(shape, bf16, steps, peaks[^1], log: Console.WriteLine));
                peaks.Add(TrainBenchmark.MeasurePeak());
            }
        }

        var peak = new MatmulPeak(peaks.Max(p => p.Fp32Gflops), peaks.Max(p => p.Bf16Gflops), peaks[0].Threads);
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "torch.mm 2048^3 on {0} thread(s), best of {1} probes: fp32 {2:F0} GFLOP/s (probes {3}), bf16 {4:F0} GFLOP/s",
            peak.Threads, peaks.Count, peak.Fp32Gflops, string.Join(" ", peaks.Select(p => p.Fp32Gflops.ToString("F0", CultureInfo.InvariantCulture))), peak.Bf16Gflops));

        // Plain text rather than a Spectre table: benchmark output usually lands in logs and docs.
        const string format = "{0,-6} {1,-11} {2,8} {3,12} {4,12} {5,11} {6,13} {7,15} {8,18}";
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, format,
            "model", "precision", "params", "MFLOP/token", "tokens/step", "best tok/s", "median tok/s", "GFLOP/s (best)", "% of fp32 mm peak"));
        foreach (var row in rows.Select(r => r with { PercentOfFp32Peak = 100 * r.BestGflops / peak.Fp32Gflops }))
        {
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture, format,
                row.Model, row.Precision, $"{row.Parameters / 1e6:F2}M", $"{row.MflopPerToken:F1}", row.TokensPerStep,
                $"{row.BestTokensPerSecond:F0}", $"{row.MedianTokensPerSecond:F0}", $"{row.BestGflops:F0}", $"{row.PercentOfFp32Peak:F0}%"));
        }

        Console.WriteLine("Timings on a shared machine are noisy: compare rows of one run, re-measure on an idle machine.");
        return 0;
    }
}
