using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;

namespace Alpaca.Cli.Commands.ConvertModels;

/// <summary>
/// <c>alpaca convert bench</c>: throughput of the scalar reference codecs and the time to open (parse and
/// map) a GGUF file. Prints figures; asserts nothing. Run on an idle machine for numbers worth quoting.
/// </summary>
internal static class CodecBenchCommand
{
    public static Command Build()
    {
        var elements = new Option<int>("--elements") { Description = "Floats per codec pass.", DefaultValueFactory = _ => 1 << 24 };
        var repeats = new Option<int>("--repeats") { Description = "Passes per codec; the best is reported.", DefaultValueFactory = _ => 3 };
        var gguf = new Option<string?>("--gguf") { Description = "Also time opening this GGUF file (else a stories15M-shape Q8_0 file is written to a temp folder)." };
        var command = new Command("bench", "Measure reference codec throughput and GGUF open time (figures only).") { elements, repeats, gguf };
        command.SetAction((ParseResult pr) => ConvertCommand.Guard(() => Run(pr.GetValue(elements), pr.GetValue(repeats), pr.GetValue(gguf))));
        return command;
    }

    private static void Run(int n, int repeats, string? ggufPath)
    {
        n = n / 256 * 256;
        var rng = new Random(1);
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = (float)(rng.NextDouble() - 0.5);
        }

        var back = new float[n];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reference codecs, {n / 1e6:F1} M floats, best of {repeats} (1 thread)"));
        Console.WriteLine("type    quantize Mfloat/s   dequantize Mfloat/s");
        foreach (var type in new[] { GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0 })
        {
            var bytes = new byte[GgmlTypeInfo.RowBytes(type, n)];
            var q = Best(repeats, () => Quantizer.Quantize(type, x, bytes));
            var d = Best(repeats, () => Quantizer.Dequantize(type, bytes, back));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{type,-7} {n / q / 1e6,18:F1} {n / d / 1e6,21:F1}"));
        }

        foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q6_K })
        {
            var bytes = new byte[GgmlTypeInfo.RowBytes(type, n)];
            var d = Best(repeats, () => Quantizer.Dequantize(type, bytes, back));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{type,-7} {"-",18} {n / d / 1e6,21:F1}"));
        }

        string? temp = null;
        if (ggufPath is null)
        {
            temp = Path.Combine(Path.GetTempPath(), $"alpaca-bench-{Guid.NewGuid():N}.gguf");
            TinyModelFactory.WriteGguf(temp, new TinyModelSpec { Config = TinyModelFactory.Shape("stories15M") }, GgmlType.Q8_0);
            ggufPath = temp;
        }

        try
        {
            var open = Best(repeats * 3, () =>
            {
                using var file = GgufFile.Open(ggufPath);
            });
            using var g = GgufFile.Open(ggufPath);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"GgufFile.Open {Path.GetFileName(ggufPath)} ({g.FileSize / 1048576.0:F1} MiB, {g.Metadata.Count} keys, {g.Tensors.Count} tensors): {open * 1000:F2} ms"));
        }
        finally
        {
            if (temp is not null)
            {
                File.Delete(temp);
            }
        }
    }

    private static double Best(int repeats, Action action)
    {
        action(); // warm-up (JIT, page faults)
        var best = double.MaxValue;
        for (var r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        return best;
    }
}
