using System.Diagnostics;
using Alpaca.Llm.Models;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Runtime;
using Alpaca.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Bench;

/// <summary>One measured configuration of <see cref="TrainBenchmark"/>.</summary>
public sealed record TrainBenchRow(
    string Model,
    string Precision,
    long Parameters,
    double MflopPerToken,
    int TokensPerStep,
    double BestTokensPerSecond,
    double MedianTokensPerSecond,
    double BestGflops,
    double PercentOfFp32Peak,
    IReadOnlyList<double> StepSeconds);

/// <summary>The matmul peaks the training rows are compared with, measured in the same run.</summary>
public sealed record MatmulPeak(double Fp32Gflops, double Bf16Gflops, int Threads);

/// <summary>
/// Training throughput of the real training step (SftTrainer: forward, response-only loss, backward,
/// clipping, AdamW, schedule) on the stories15M and stories110M shapes of torchsharp.md §2.2
/// (vocab 32000, tied head, batch 8 × 256 tokens, random ids), next to torch.mm's peak on this machine.
/// FLOPs per token follow the PaLM convention used there: 6·N_matmul + 12·L·d·T.
/// </summary>
public static class TrainBenchmark
{
    public static readonly IReadOnlyDictionary<string, LlamaConfig> Shapes = new Dictionary<string, LlamaConfig>
    {
        ["15M"] = Shape(288, 6, 6, 768),
        ["110M"] = Shape(768, 12, 12, 2048),
    };

    /// <summary>torch.mm's fp32 and bf16 GFLOP/s on <paramref name="device"/> (default the CPU); CUDA runs are synchronized.</summary>
    public static MatmulPeak MeasurePeak(int size = 2048, int repeats = 5, Device? device = null)
    {
        device ??= CPU;
        var onCuda = device.type == DeviceType.CUDA;
        double Best(ScalarType dtype)
        {
            using var a = randn(size, size).to(dtype).to(device);
            using var b = randn(size, size).to(dtype).to(device);
            using (a.mm(b))
            {
            }

            if (onCuda)
            {
                cuda.synchronize();
            }

            var best = double.MaxValue;
            for (var i = 0; i < repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                using (a.mm(b))
                {
                }

                if (onCuda)
                {
                    cuda.synchronize();
                }

                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }

            return 2.0 * size * size * size / best / 1e9;
        }

        return new MatmulPeak(Best(ScalarType.Float32), Best(ScalarType.BFloat16), get_num_threads());
    }

    /// <summary>Measures the training step of <paramref name="shape"/>; <paramref name="device"/> defaults to the CPU (the GPU check passes cuda).</summary>
    public static TrainBenchRow Run(string shape, bool bf16, int steps, MatmulPeak peak, int batch = 8, int sequence = 256, Action<string>? log = null, Device? device = null)
    {
        var config = Shapes[shape];
        device ??= CPU;
        var tokensPerStep = batch * sequence;
        var examples = new List<SupervisedExample>();
        var random = new Random(1);
        for (var i = 0; i < batch * (steps + 1); i++)
        {
            var ids = Enumerable.Range(0, sequence).Select(_ => random.Next(3, config.VocabSize)).ToArray();
            examples.Add(new SupervisedExample(ids, (int[])ids.Clone(), 0));
        }

        using var model = new LlamaForCausalLM(config);
        ModelWeights.InitializeRandom(model, 1);
        if (bf16)
        {
            model.to(ScalarType.BFloat16);
        }

        model.to(device);

        var hp = new TrainingHyperparameters
        {
            Epochs = 1,
            GlobalBatchSize = batch,
            MicroBatchSize = batch,
            MaxLength = sequence,
            LearningRate = 1e-4,
            Precision = bf16 ? PrecisionMode.BFloat16 : PrecisionMode.Float32,
        };
        using var trainer = new SftTrainer(model, SupervisedDataset.FromExamples(examples), hp, 0, device, checkpointRoot: null);
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        trainer.Train(new InlineProgress<TrainingStepEvent>(e =>
        {
            times.Add(clock.Elapsed.TotalSeconds);
            log?.Invoke($"{shape} {(bf16 ? "bf16" : "fp32")} step {e.Step}: {clock.Elapsed.TotalSeconds:F2} s, loss {e.Loss:F3}");
            clock.Restart();
        }));

        var measured = times.Skip(1).ToList(); // the first step pays for allocation and oneDNN kernel selection
        var sorted = measured.Order().ToList();
        var flopPerToken = FlopPerToken(config, sequence);
        var best = tokensPerStep / sorted[0];
        var median = tokensPerStep / sorted[sorted.Count / 2];
        var gflops = best * flopPerToken / 1e9;
        return new TrainBenchRow(
            shape, bf16 ? "bf16-mixed" : "fp32", ModelWeights.Count(model).Total, flopPerToken / 1e6, tokensPerStep,
            best, median, gflops, 100 * gflops / peak.Fp32Gflops, measured);
    }

    /// <summary>6·N_matmul + 12·L·d·T (attention scores and values, no causal halving).</summary>
    public static double FlopPerToken(LlamaConfig config, int sequence) =>
        (6.0 * MatmulParameterCount(config)) + (12.0 * config.NLayers * config.Dim * sequence);

    private static LlamaConfig Shape(int dim, int layers, int heads, int ffn) => new()
    {
        VocabSize = 32000,
        Dim = dim,
        FfnDim = ffn,
        NLayers = layers,
        NHeads = heads,
        NKvHeads = heads,
        ContextLength = 1024,
        RmsNormEps = 1e-5f,
        TiedEmbeddings = true,
    };

    /// <summary>Parameters that sit in matrix multiplies (the FLOP count of a training step uses them).</summary>
    private static long MatmulParameterCount(LlamaConfig config)
    {
        long d = config.Dim, hd = config.HeadDim;
        long attention = (d * config.NHeads * hd * 2) + (d * config.NKvHeads * hd * 2);
        long mlp = 3 * d * config.FfnDim;
        return (config.NLayers * (attention + mlp)) + ((long)config.VocabSize * d);
    }
}
