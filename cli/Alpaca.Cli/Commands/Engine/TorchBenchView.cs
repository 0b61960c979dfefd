using System.Globalization;
using Alpaca.Inference.Benchmarking;
using Alpaca.Inference.Torch;
using Alpaca.Inference.Torch.Benchmarking;
using Alpaca.Trainer.Bench;
using Alpaca.Trainer.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Alpaca.Cli.Commands.Engine;

/// <summary>
/// <c>alpaca bench --backend torch</c>: batched prefill and decode tokens/s of the TorchSharp backend on a
/// device and dtype, for GGUF files or random-weight shapes (15M, 110M, 1.1B); with <c>--train-step</c> also
/// the 110M training step and its MFU on the same device (scripts/gpu-check.sh runs both on CUDA).
/// </summary>
internal static class TorchBenchView
{
    public sealed record Settings(
        IReadOnlyList<string> Files, IReadOnlyList<string> Shapes, string Device, string DType, int Threads,
        int[] Batches, int[] Prompts, int[] Generations, int Repetitions, bool TrainStep, double PeakTflops);

    public static int Run(Settings s)
    {
        TorchRuntime.Initialize(s.Threads);
        var device = TorchRuntime.SelectDevice(s.Device);
        var dtype = TorchBackendOptions.ResolveDType(s.DType, device);
        var maxBatch = s.Batches.DefaultIfEmpty(1).Max();
        var context = Math.Max(s.Prompts.DefaultIfEmpty(0).Max(), 16 + s.Generations.DefaultIfEmpty(0).Max()) + 1;
        var options = new TorchBackendOptions { Device = s.Device, DType = s.DType, MaxSequences = maxBatch, ContextLength = context, Threads = s.Threads, MaxBatchTokens = 8192 };
        Console.WriteLine($"# alpaca bench --backend torch — device {DescribeDevice(device)}, dtype {TorchBackendOptions.Name(dtype)}, {get_num_threads()} torch threads, CPU: {Inference.Kernels.CpuKernels.Describe()}");
        Console.WriteLine();
        Console.WriteLine("| model | params | dtype | device | test | t/s | ± |");
        Console.WriteLine("|---|---:|---|---|---|---:|---:|");
        foreach (var (name, load) in s.Files.Select(f => (Path.GetFileNameWithoutExtension(f), (Func<TorchTransformer>)(() => LoadFile(f, options))))
                     .Concat(s.Shapes.Select(shape => (shape + " (random)", (Func<TorchTransformer>)(() => TorchModelLoader.Random(TorchBench.Shape(shape), options))))))
        {
            using var model = load();
            foreach (var batch in s.Batches)
            {
                foreach (var p in s.Prompts)
                {
                    Print(name, model, TorchBench.Prefill(model, batch, p, s.Repetitions));
                }

                foreach (var n in s.Generations)
                {
                    Print(name, model, TorchBench.Decode(model, batch, n, s.Repetitions));
                }
            }
        }

        if (s.TrainStep)
        {
            TrainStep(device, dtype, s.PeakTflops);
        }

        return 0;
    }

    // The real training step (SftTrainer) of the 110M shape on the device, against the device's measured
    // bf16 matmul peak and a nominal peak (MFU = model FLOP/s ÷ peak).
    private static void TrainStep(Device device, ScalarType dtype, double peakTflops)
    {
        var peak = TrainBenchmark.MeasurePeak(device: device);
        var bf16 = dtype == ScalarType.BFloat16;
        var row = TrainBenchmark.Run("110M", bf16, steps: 5, peak, log: Console.Error.WriteLine, device: device);
        var measuredPeak = bf16 ? peak.Bf16Gflops : peak.Fp32Gflops;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train step 110M {row.Precision} on {DescribeDevice(device)}: {row.TokensPerStep} tokens/step, best {row.BestTokensPerSecond:F0} tok/s, median {row.MedianTokensPerSecond:F0} tok/s, {row.BestGflops / 1000:F2} TFLOP/s; " +
            $"MFU {100 * row.BestGflops / 1000 / peakTflops:F1}% of {peakTflops:F0} TFLOPS nominal, {100 * row.BestGflops / measuredPeak:F1}% of the measured torch.mm peak {measuredPeak / 1000:F1} TFLOP/s"));
    }

    private static TorchTransformer LoadFile(string file, TorchBackendOptions options)
    {
        var engine = TorchModelLoader.Load(file, options);
        // The bench keeps the backend only; the engine's tokenizer and mapped file are not needed.
        return (TorchTransformer)engine.Model;
    }

    private static void Print(string name, TorchTransformer model, BenchResult r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {model.Config.ParameterCount / 1e6:F1}M | {model.WeightType} | {model.Device} | {r.Test} | {r.Median:F1} | {r.StdDev:F1} |"));

    private static string DescribeDevice(Device device) => device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, device.index)}" : "cpu";
}
