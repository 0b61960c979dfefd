using System.CommandLine;
using System.Globalization;
using Alpaca.Inference.Benchmarking;
using Alpaca.Inference.Kernels;
using Alpaca.Inference.Model;

namespace Alpaca.Cli.Commands.Engine;

/// <summary>
/// <c>alpaca bench</c>: llama-bench style prompt-processing (pp) and generation (tg) tokens/s of the CPU
/// engine — median ± standard deviation over repetitions — plus the machine's read bandwidth measured in
/// the same run and each tg figure as a share of bandwidth ÷ bytes per token.
/// </summary>
public static class BenchCommand
{
    public static Command Build()
    {
        var model = new Option<string[]>("--model", "-m") { Description = "GGUF model file (repeatable).", AllowMultipleArgumentsPerToken = false };
        var make = new Option<string[]>("--make-model") { Description = "SHAPE:TYPE (15M|110M|1.1B : f32|f16|bf16|q8_0|q4_0|q4_k_m|q5_k_m|q6_k), written once into --models-dir and benchmarked (repeatable, or comma-separated).", AllowMultipleArgumentsPerToken = false };
        var modelsDir = new Option<string>("--models-dir") { Description = "Folder for --make-model files (git-ignored).", DefaultValueFactory = _ => Path.Combine("artifacts", "models") };
        var threads = new Option<string>("--threads", "-t") { Description = "Thread counts, comma-separated (0 = one per core).", DefaultValueFactory = _ => "0" };
        var pp = new Option<string>("-p", "--n-prompt") { Description = "Prompt lengths, comma-separated (empty = none).", DefaultValueFactory = _ => "64,256" };
        var tg = new Option<string>("-n", "--n-gen") { Description = "Generation lengths, comma-separated (empty = none).", DefaultValueFactory = _ => "64,128" };
        var reps = new Option<int>("-r", "--repetitions") { Description = "Repetitions per test (after one warm-up run).", DefaultValueFactory = _ => 5 };
        var kernels = new Option<string>("--kernels") { Description = "Kernel path: auto, Reference, Portable, Avx2, Avx512Vnni, Neon.", DefaultValueFactory = _ => "auto" };
        var noBandwidth = new Option<bool>("--no-bandwidth") { Description = "Skip the memory bandwidth probe." };
        var backend = new Option<string>("--backend") { Description = "cpu (the C# kernels, llama-bench style) or torch (the TorchSharp backend: batched prefill/decode).", DefaultValueFactory = _ => "cpu" };
        var device = new Option<string>("--device") { Description = "With --backend torch: cpu, cuda, cuda:N.", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "With --backend torch: bf16, f16, f32 or auto (bf16 on CUDA, f32 on CPU).", DefaultValueFactory = _ => "auto" };
        var shape = new Option<string>("--shape") { Description = "With --backend torch: random-weight shapes, comma-separated (15M, 110M, 1.1B, tiny).", DefaultValueFactory = _ => "" };
        var batches = new Option<string>("--batch") { Description = "With --backend torch: sequences per step, comma-separated.", DefaultValueFactory = _ => "1,8,32" };
        var trainStep = new Option<bool>("--train-step") { Description = "With --backend torch: also time the 110M training step on the device and print its MFU." };
        var peakTflops = new Option<double>("--peak-tflops") { Description = "With --train-step: nominal dense peak for MFU (H100/H200 SXM bf16: 989).", DefaultValueFactory = _ => 989 };
        var kv = new Option<bool>("--kv") { Description = "Also print the KV cache figures: bytes per token per cache type, sequences that fit --kv-budget-mib with a whole context each (fp32, before paging) and paged, and TTFT of an Alpaca-template prompt with and without a prefix-cache hit." };
        var kvBudget = new Option<int>("--kv-budget-mib") { Description = "With --kv: the KV memory budget.", DefaultValueFactory = _ => 1024 };
        var kvInFlight = new Option<int>("--kv-tokens") { Description = "With --kv: tokens a sequence really has in flight (prompt + completion).", DefaultValueFactory = _ => 512 };
        var draft = new Option<string[]>("--draft") { Description = "Speculative decoding: a draft GGUF (or SHAPE:TYPE, written like --make-model) of the same vocabulary; prints greedy tg through the scheduler with and without it, for every --model (repeatable).", AllowMultipleArgumentsPerToken = false };
        var draftThreads = new Option<int>("--draft-threads") { Description = "With --draft: the draft's threads (1 = the decode loop alone; 0 = share the target's).", DefaultValueFactory = _ => 1 };
        var draftTokens = new Option<string>("--draft-tokens") { Description = "With --draft: draft tokens per step, comma-separated.", DefaultValueFactory = _ => "4" };
        var decodeBatch = new Option<string>("--decode-batch") { Description = "Decode steps of B sequences at once (continuous batching), comma-separated B values: ms per step, tokens/s, tokens per CPU-second and where the step's time goes (e.g. 1,2,4,8,16).", DefaultValueFactory = _ => "" };
        var decodeContext = new Option<string>("--decode-context") { Description = "With --decode-batch: MIN,MAX positions of the sequences' KV contexts (prefilled with random tokens, spread evenly).", DefaultValueFactory = _ => "100,300" };
        var decodeSteps = new Option<int>("--decode-steps") { Description = "With --decode-batch: timed steps per B (after two warm-up steps).", DefaultValueFactory = _ => 24 };
        var vsLlamaCpp = new Option<bool>("--vs-llama-cpp") { Description = "Also run llama.cpp (node-llama-cpp, scripts/setup-oracle.sh) on each file right before ours and print both columns with the ratio." };

        var command = new Command("bench", "Benchmark the CPU inference engine like llama-bench (pp/tg tokens per second).")
        {
            model, make, modelsDir, threads, pp, tg, reps, kernels, noBandwidth, kv, kvBudget, kvInFlight, vsLlamaCpp, backend, device, dtype, shape, batches, trainStep, peakTflops, draft, draftTokens, draftThreads, decodeBatch, decodeContext, decodeSteps,
        };

        command.SetAction((ParseResult parse, CancellationToken cancellationToken) =>
        {
            try
            {
                var files = new List<string>(parse.GetValue(model) ?? []);
                foreach (var spec in (parse.GetValue(make) ?? []).SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                {
                    files.Add(BenchmarkModels.Ensure(spec, parse.GetValue(modelsDir)!, m => Console.Error.WriteLine(m)));
                }

                if (parse.GetValue(backend)!.Trim().Equals("torch", StringComparison.OrdinalIgnoreCase))
                {
                    var shapes = parse.GetValue(shape)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (files.Count == 0 && shapes.Length == 0)
                    {
                        throw new ArgumentException("Give --model FILE, --make-model SHAPE:TYPE or --shape SHAPE.");
                    }

                    var torchThreads = Ints(parse.GetValue(threads)!, "--threads").DefaultIfEmpty(0).First();
                    return Task.FromResult(TorchBenchView.Run(new TorchBenchView.Settings(
                        files, shapes, parse.GetValue(device)!, parse.GetValue(dtype)!, torchThreads, Ints(parse.GetValue(batches)!, "--batch"),
                        Ints(parse.GetValue(pp)!, "-p"), Ints(parse.GetValue(tg)!, "-n"), parse.GetValue(reps), parse.GetValue(trainStep), parse.GetValue(peakTflops))));
                }

                if (parse.GetValue(backend)!.Trim().ToLowerInvariant() != "cpu")
                {
                    throw new ArgumentException("--backend is cpu or torch.");
                }

                if (files.Count == 0)
                {
                    throw new ArgumentException("Give --model FILE or --make-model SHAPE:TYPE.");
                }

                var path = CpuKernels.Parse(parse.GetValue(kernels)!);
                var threadCounts = Ints(parse.GetValue(threads)!, "--threads").Select(t => t == 0 ? Environment.ProcessorCount : t).Distinct().ToArray();
                var ppSizes = Ints(parse.GetValue(pp)!, "-p");
                var tgSizes = Ints(parse.GetValue(tg)!, "-n");
                var repetitions = parse.GetValue(reps);
                if (repetitions < 1)
                {
                    throw new ArgumentException("-r must be at least 1.");
                }

                Console.WriteLine($"# alpaca bench — {CpuKernels.Describe()}, kernels {path}, {Environment.ProcessorCount} logical CPUs");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# load average at start: {LoadAverage()}"));
                var bandwidth = new Dictionary<int, double>();
                if (!parse.GetValue(noBandwidth))
                {
                    foreach (var t in threadCounts)
                    {
                        bandwidth[t] = MemoryBandwidth.MeasureReadGBps(t);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# memory read bandwidth, {t} thread(s): {bandwidth[t]:F1} GB/s"));
                    }
                }

                Console.WriteLine();
                Console.WriteLine("| model | size | threads | test | t/s | ± | MB/token | bound t/s | % of bound | t/CPU-s |");
                Console.WriteLine("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|");
                var comparison = new List<string>();
                var memory = new List<string>();
                foreach (var file in files)
                {
                    var peer = parse.GetValue(vsLlamaCpp)
                        ? LlamaCppBench.Run(file, threadCounts, ppSizes, tgSizes, repetitions, cancellationToken)
                        : null;
                    using var weights = LlamaWeights.Load(file);
                    var name = Path.GetFileNameWithoutExtension(file);
                    var sizeMiB = new FileInfo(file).Length / (1024.0 * 1024.0);
                    memory.Add(MemoryRow(name, sizeMiB, weights, file));
                    var bytesPerToken = weights.BytesPerToken;
                    foreach (var t in threadCounts)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var m = new Transformer(weights, new ModelOptions
                        {
                            Threads = t,
                            Kernels = path,
                            ContextLength = Math.Min(weights.Config.ContextLength, Math.Max(ppSizes.DefaultIfEmpty(0).Max(), tgSizes.DefaultIfEmpty(0).Max())),
                        });
                        foreach (var n in ppSizes)
                        {
                            var r = BenchRunner.PromptProcessing(m, n, repetitions);
                            Print(name, sizeMiB, t, r, null, null);
                            Compare(comparison, peer, name, t, r, null, null);
                        }

                        foreach (var n in tgSizes)
                        {
                            var r = BenchRunner.Generation(m, n, repetitions);
                            var bw = bandwidth.TryGetValue(t, out var g) ? g : (double?)null;
                            Print(name, sizeMiB, t, r, bytesPerToken, bw);
                            Compare(comparison, peer, name, t, r, bytesPerToken, bw);
                        }
                    }
                }

                var decodeSizes = Ints(parse.GetValue(decodeBatch)!, "--decode-batch");
                if (decodeSizes.Length > 0)
                {
                    var range = Ints(parse.GetValue(decodeContext)!, "--decode-context");
                    if (range.Length != 2 || range[0] < 1 || range[1] < range[0])
                    {
                        throw new ArgumentException("--decode-context takes MIN,MAX with 1 ≤ MIN ≤ MAX.");
                    }

                    foreach (var file in files)
                    {
                        PrintDecodeBatch(file, threadCounts, path, decodeSizes, range[0], range[1], Math.Max(1, parse.GetValue(decodeSteps)));
                    }
                }

                if (parse.GetValue(kv))
                {
                    foreach (var file in files)
                    {
                        PrintKv(file, threadCounts[0], path, parse.GetValue(kvBudget), parse.GetValue(kvInFlight), repetitions);
                    }
                }

                var drafts = (parse.GetValue(draft) ?? []).Select(d => File.Exists(d) || !d.Contains(':', StringComparison.Ordinal) ? d : BenchmarkModels.Ensure(d, parse.GetValue(modelsDir)!, m => Console.Error.WriteLine(m))).ToList();
                if (drafts.Count > 0)
                {
                    PrintSpeculative(files, drafts, Ints(parse.GetValue(draftTokens)!, "--draft-tokens"), tgSizes.DefaultIfEmpty(128).Max(), threadCounts[0], parse.GetValue(draftThreads), path, repetitions);
                }

                if (memory.Count > 0)
                {
                    Console.WriteLine();
                    Console.WriteLine("| model | file MiB | K-quant matrices | their GGUF MiB | packed copy MiB | packed ÷ GGUF | RSS after load MiB | RssAnon MiB | RssFile MiB | of it the GGUF MiB |");
                    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                    memory.ForEach(Console.WriteLine);
                }

                if (comparison.Count > 0)
                {
                    Console.WriteLine();
                    Console.WriteLine("| model | threads | test | llama.cpp t/s | ours t/s | ours ÷ llama.cpp | llama.cpp % of bound | ours % of bound | llama.cpp t/CPU-s | ours t/CPU-s | ours ÷ llama.cpp (CPU) |");
                    Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
                    comparison.ForEach(Console.WriteLine);
                }

                Console.WriteLine();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# load average at end: {LoadAverage()} (figures are only comparable on an idle machine)"));
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or NotSupportedException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    private static void PrintSpeculative(List<string> targets, List<string> drafts, IReadOnlyList<int> ks, int tokens, int threads, int draftThreads, KernelPath path, int repetitions)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Speculative decoding: greedy tg{tokens} through the scheduler (Alpaca-template prompt, {threads} threads, draft {(draftThreads == 0 ? "on the target's threads" : $"{draftThreads} thread(s)")}), without and with the draft, alternately; medians of {repetitions}"));
        Console.WriteLine("| target | draft | k | tg plain t/s | tg speculative t/s | speedup | acceptance | tokens per target step | same tokens |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var file in targets)
        {
            using var target = Alpaca.Inference.Engine.Load(file, new ModelOptions { Threads = threads, Kernels = path });
            foreach (var d in drafts)
            {
                using var draftEngine = Alpaca.Inference.Engine.Load(d, new ModelOptions { Kernels = path, ContextLength = target.Model.Cache.ContextLength, Threads = Math.Max(1, draftThreads), Workers = draftThreads == 0 ? ((Transformer)target.Model).Workers : null });
                foreach (var k in ks)
                {
                    var r = SpeculativeBench.Run(target, draftEngine, k, tokens, repetitions);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {Path.GetFileNameWithoutExtension(file)} | {Path.GetFileNameWithoutExtension(d)} | {k} | {r.PlainTokensPerSecond:F1} | {r.SpeculativeTokensPerSecond:F1} | {r.Speedup:F2}× | {100 * r.Acceptance:F0}% | {r.TokensPerStep:F2} | {(r.SameOutput ? "yes" : "NO")} |"));
                }
            }
        }
    }

    private static void PrintDecodeBatch(string file, int[] threadCounts, KernelPath path, int[] sizes, int minContext, int maxContext, int steps)
    {
        var name = Path.GetFileNameWithoutExtension(file);
        using var weights = LlamaWeights.Load(file);
        var context = DecodeBatchBench.ContextNeeded(maxContext, steps);
        if (context > weights.Config.ContextLength)
        {
            throw new ArgumentException($"--decode-context {maxContext} + {steps} steps needs {context} positions; {name} has {weights.Config.ContextLength}.");
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Decode steps of B sequences ({name}, kernels {path}, contexts {minContext}–{maxContext} positions, {steps} timed steps; ms/step: median wall; parts: mean ms per step, CPU time of the one thread at 1 thread (cpu), wall time at more; pool wait: the caller's wait for other threads' chunks)"));
        var parts = ForwardProfile.Parts;
        Console.WriteLine("| threads | B | ms/step | ± | step ÷ step(1) | CPU ms/step | CPU step ÷ step(1) | t/s | t/CPU-s | parts | " + string.Join(" | ", parts) + " | pool wait |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|" + string.Concat(parts.Select(_ => "---:|")) + "---:|");
        foreach (var t in threadCounts)
        {
            using var m = new Transformer(weights, new ModelOptions { Threads = t, Kernels = path, MaxSequences = sizes.Max(), ContextLength = context });
            double? single = null, singleCpu = null;
            foreach (var b in sizes)
            {
                var r = DecodeBatchBench.Run(m, b, steps, minContext, maxContext);
                single ??= b == 1 ? r.MsPerStep : null;
                singleCpu ??= b == 1 ? r.CpuMsPerStep : null;
                var ratio = single is { } s ? (r.MsPerStep / s).ToString("F2", CultureInfo.InvariantCulture) + "×" : "";
                var cpuRatio = singleCpu is { } sc ? (r.CpuMsPerStep / sc).ToString("F2", CultureInfo.InvariantCulture) + "×" : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {t} | {b} | {r.MsPerStep:F2} | {r.MsStdDev:F2} | {ratio} | {r.CpuMsPerStep:F2} | {cpuRatio} | {r.TokensPerSecond:F1} | {r.TokensPerCpuSecond:F1} | {(r.PartsAreCpu ? "cpu" : "wall")} | ")
                    + string.Join(" | ", parts.Select(p => r.PartMs[p].ToString("F2", CultureInfo.InvariantCulture)))
                    + string.Create(CultureInfo.InvariantCulture, $" | {r.PoolWaitMs:F2} |"));
            }
        }
    }

    private static void PrintKv(string file, int threads, KernelPath path, int budgetMiB, int inFlight, int repetitions)
    {
        var name = Path.GetFileNameWithoutExtension(file);
        var options = new ModelOptions { Threads = threads, Kernels = path };
        using (var engine = Alpaca.Inference.Engine.Load(file, options with { ContextLength = 64 }))
        {
            var context = engine.Model.Config.ContextLength;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"KV cache of {name}: budget {budgetMiB} MiB, context {context}, {inFlight} tokens in flight per sequence, blocks of 16"));
            Console.WriteLine("| cache type | KV bytes/token | sequences, whole context each (before) | sequences, paged (after) |");
            Console.WriteLine("|---|---:|---:|---:|");
            foreach (var c in KvBench.Capacity(engine, budgetMiB * 1024L * 1024L, context, inFlight))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {c.Type} | {c.BytesPerToken:N0} | {c.WholeContextSequences} | {c.PagedSequences} |"));
            }
        }

        var ttft = KvBench.Ttft(file, options with { ContextLength = 1024 }, repetitions);
        Console.WriteLine();
        Console.WriteLine("| model | prompt tokens | preamble tokens | cached on a hit | TTFT cold ms | TTFT prefix hit ms | cut | preamble share |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {ttft.PromptTokens} | {ttft.PreambleTokens} | {ttft.CachedTokens} | {ttft.ColdMs:F1} | {ttft.HitMs:F1} | {100 * (1 - (ttft.HitMs / ttft.ColdMs)):F0}% | {100.0 * ttft.PreambleTokens / ttft.PromptTokens:F0}% |"));
    }

    private static void Print(string model, double sizeMiB, int threads, BenchResult r, long? bytesPerToken, double? gbps)
    {
        var mb = bytesPerToken is { } b ? (b / 1e6).ToString("F1", CultureInfo.InvariantCulture) : "";
        var bound = bytesPerToken is { } b2 && gbps is { } g ? g * 1e9 / b2 : (double?)null;
        var share = bound is { } bd ? (100 * r.Median / bd).ToString("F0", CultureInfo.InvariantCulture) + "%" : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {model} | {sizeMiB:F1} MiB | {threads} | {r.Test} | {r.Median:F1} | {r.StdDev:F1} | {mb} | {(bound is { } x ? x.ToString("F0", CultureInfo.InvariantCulture) : "")} | {share} | {r.CpuMedian:F1} |"));
    }

    private static void Compare(List<string> rows, Dictionary<(int Threads, string Test), (double Median, double StdDev, double CpuMedian)>? peer, string model, int threads, BenchResult r, long? bytesPerToken, double? gbps)
    {
        if (peer is null || !peer.TryGetValue((threads, r.Test), out var theirs))
        {
            return;
        }

        var bound = bytesPerToken is { } b && gbps is { } g ? g * 1e9 / b : (double?)null;
        string Share(double v) => bound is { } bd ? (100 * v / bd).ToString("F0", CultureInfo.InvariantCulture) + "%" : "";
        rows.Add(string.Create(CultureInfo.InvariantCulture,
            $"| {model} | {threads} | {r.Test} | {theirs.Median:F1} ± {theirs.StdDev:F1} | {r.Median:F1} ± {r.StdDev:F1} | {r.Median / theirs.Median:F2}× | {Share(theirs.Median)} | {Share(r.Median)} | {theirs.CpuMedian:F1} | {r.CpuMedian:F1} | {r.CpuMedian / theirs.CpuMedian:F2}× |"));
    }

    /// <summary>
    /// The K-quant matrices' packed copy against their GGUF bytes, and the process's resident memory right
    /// after loading (RssAnon: the packed copy, heap and runtime; RssFile: the runtime's libraries and what is resident of the GGUF, shown on its own).
    /// </summary>
    private static string MemoryRow(string model, double sizeMiB, LlamaWeights weights, string path)
    {
        const double MiB = 1024.0 * 1024.0;
        var k = weights.Matrices.Where(m => m.IsKPacked).ToList();
        var gguf = k.Sum(m => m.RowBytes * m.Rows);
        var packed = k.Sum(m => m.StreamBytes);
        var (rss, anon, file) = ProcessMemory.Resident();
        return string.Create(CultureInfo.InvariantCulture,
            $"| {model} | {sizeMiB:F1} | {k.Count} | {gguf / MiB:F1} | {packed / MiB:F1} | {(gguf > 0 ? $"{(double)packed / gguf:F3}×" : "–")} | {rss / MiB:F1} | {anon / MiB:F1} | {file / MiB:F1} | {ProcessMemory.MappedBytes(path) / MiB:F1} |");
    }

    private static int[] Ints(string list, string option)
    {
        try
        {
            // As in llama-bench, 0 means "no such test" (-n 0: prompt processing only).
            return list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).Where(n => n > 0 || option == "--threads").ToArray();
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{option} takes comma-separated non-negative integers, got '{list}'.");
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
