using System.Diagnostics;
using Alpaca.Inference.Benchmarking;
using Alpaca.Inference.Model;
using Alpaca.Llm.Models;

namespace Alpaca.Inference.Torch.Benchmarking;

/// <summary>
/// Batched prefill and decode throughput of the torch backend, as the scheduler drives it. pp N ×B: one
/// forward over B sequences' N-token prompts (logits of each last token). tg N ×B: B sequences that hold a
/// 16-token prompt decode N tokens each, one token per sequence per step. Tokens/s counts every sequence's
/// tokens. Each step copies its logits to the host, so device work is finished when the clock stops. One
/// untimed warm-up run precedes the repetitions.
/// </summary>
public static class TorchBench
{
    private const int DecodePrompt = 16;

    /// <summary>The shapes <c>alpaca bench --backend torch --shape</c> knows (random weights).</summary>
    public static LlamaConfig Shape(string name) => TinyModelFactory.Shape(name.ToLowerInvariant() switch
    {
        "15m" => "stories15M",
        "110m" => "stories110M",
        "1.1b" => "tinyllama-1.1B",
        var other => other,
    });

    public static BenchResult Prefill(TorchTransformer model, int batch, int prompt, int repetitions) =>
        Measure($"pp{prompt} x{batch}", batch * prompt, repetitions, () =>
        {
            var slots = Allocate(model, batch);
            var b = new Batch(batch * prompt);
            var random = new Random(1);
            foreach (var s in slots)
            {
                for (var i = 0; i < prompt; i++)
                {
                    b.Add(random.Next(model.VocabSize), i, s, logits: i == prompt - 1);
                }
            }

            var clock = Stopwatch.StartNew();
            model.Forward(b);
            var elapsed = clock.Elapsed;
            Free(model, slots);
            return elapsed;
        });

    public static BenchResult Decode(TorchTransformer model, int batch, int tokens, int repetitions) =>
        Measure($"tg{tokens} x{batch}", batch * tokens, repetitions, () =>
        {
            var slots = Allocate(model, batch);
            var b = new Batch(batch * DecodePrompt);
            foreach (var s in slots)
            {
                for (var i = 0; i < DecodePrompt; i++)
                {
                    b.Add(1 + i, i, s, logits: i == DecodePrompt - 1);
                }
            }

            model.Forward(b);
            var clock = Stopwatch.StartNew();
            for (var step = 1; step <= tokens; step++)
            {
                b.Clear();
                foreach (var s in slots)
                {
                    b.Add((step * 31) % model.VocabSize, DecodePrompt + step - 1, s, logits: true);
                }

                model.Forward(b);
            }

            var elapsed = clock.Elapsed;
            Free(model, slots);
            return elapsed;
        });

    private static BenchResult Measure(string test, int tokens, int repetitions, Func<TimeSpan> run)
    {
        run();
        var rates = new List<double>();
        for (var r = 0; r < repetitions; r++)
        {
            rates.Add(tokens / run().TotalSeconds);
        }

        return new BenchResult(test, tokens, rates);
    }

    private static int[] Allocate(TorchTransformer model, int batch) => Enumerable.Range(0, batch).Select(_ => model.Cache.Allocate()).ToArray();

    private static void Free(TorchTransformer model, int[] slots)
    {
        foreach (var s in slots)
        {
            model.Cache.Free(s);
        }
    }
}
