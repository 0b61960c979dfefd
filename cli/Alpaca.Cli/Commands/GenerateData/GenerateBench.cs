using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Alpaca.Generator.Dedup;
using Alpaca.Generator.Export;
using Alpaca.Generator.Parsing;
using Alpaca.Generator.Parsing.Cleaning;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using Spectre.Console;

namespace Alpaca.Cli.Commands.GenerateData;

/// <summary>
/// <c>alpaca generate-data bench</c>: prints throughput of prompt encoding, the reference parser, the
/// Python-compatible export, and the whole embedded pipeline against a loopback replay teacher.
/// </summary>
internal static class GenerateBench
{
    public static Command Build()
    {
        var data = new Option<string>("--data") { Description = "alpaca_data.json (records replayed as teacher replies).", Required = true };
        var seeds = new Option<string>("--seeds") { Description = "seed_tasks.jsonl.", Required = true };
        var records = new Option<int>("--records") { Description = "Instructions to keep in the end-to-end runs.", DefaultValueFactory = _ => 2000 };
        var command = new Command("bench", "Throughput of the generator's own parts (no real teacher).") { data, seeds, records };
        command.SetAction(async (ParseResult parse, CancellationToken cancellationToken) =>
        {
            var all = Load(parse.GetValue(data)!);
            var seedTasks = SeedTaskReader.Read(parse.GetValue(seeds)!);
            var n = parse.GetValue(records);
            var table = new Table().AddColumns("stage", "work", "seconds", "rate");

            // 1. Prompt encoding (sampling + encode_prompt).
            var sampler = new PromptSampler(seedTasks, 3, 1);
            var watch = Stopwatch.StartNew();
            long chars = 0;
            const int prompts = 20000;
            for (var i = 0; i < prompts; i++)
            {
                chars += PromptEncoder.Encode(PromptTemplate.Default, sampler.Sample(i / 5, i % 5)).Length;
            }

            Row(table, "encode prompts", $"{prompts:N0} prompts", watch.Elapsed, prompts, "prompts/s");

            // 2. Parsing and filters on replies of 16 real records each.
            var replies = new List<string>();
            var next = 0;
            while (next < all.Count)
            {
                replies.Add(ReplayTeacher.Reply(all, ref next));
            }

            foreach (var (name, parser) in new[] { ("parse + filters", new ResponseParser(3)), ("parse + filters + cleaning", new ResponseParser(3, CleaningChecks.All)) })
            {
                // One untimed pass first: tiered JIT and regex construction would otherwise be measured.
                foreach (var reply in replies)
                {
                    parser.Parse(reply, "stop");
                }

                watch.Restart();
                var items = 0;
                var reasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
                foreach (var reply in replies)
                {
                    var parsed = parser.Parse(reply, "stop");
                    items += parsed.Count;
                    foreach (var p in parsed)
                    {
                        foreach (var key in p.Cleaned.Prepend(p.Rejection?.Key() ?? "").Where(k => k.Length > 0))
                        {
                            reasons[key] = reasons.GetValueOrDefault(key) + 1;
                        }
                    }
                }

                var elapsed = watch.Elapsed;
                var breakdown = reasons.Count == 0 ? "none" : string.Join(", ", reasons.Select(r => $"{r.Key} {r.Value}"));
                Row(table, name, $"{replies.Count:N0} replies, {items:N0} items; rejected/fixed: {breakdown}", elapsed, items, "items/s");
            }

            // 3. Export in Python's json.dump layout (after an untimed pass).
            DatasetFiles.AlpacaJson(all);
            watch.Restart();
            var json = DatasetFiles.AlpacaJson(all);
            var bytes = Encoding.UTF8.GetByteCount(json);
            Row(table, "alpaca_data.json export", $"{all.Count:N0} records, {bytes / 1e6:F1} MB", watch.Elapsed, bytes / 1e6, "MB/s");

            // 4. The whole embedded pipeline over loopback HTTP.
            foreach (var concurrency in new[] { 1, 4 })
            {
                await using var teacher = new ReplayTeacher(all);
                using var client = new OpenAiTeacherClient(new TeacherOptions { BaseUrl = teacher.BaseUrl, Model = "replay" });
                var dir = Path.Combine(Path.GetTempPath(), "alpaca-gen-bench-" + Guid.NewGuid().ToString("N"));
                try
                {
                    var spec = new SelfInstructRunSpec
                    {
                        RunId = "bench",
                        Seeds = seedTasks,
                        PromptText = PromptTemplate.Default.Text,
                        NumInstructions = n,
                        OutputDir = dir,
                        Seed = 1,
                        Concurrency = concurrency,
                    };
                    watch.Restart();
                    var result = await new GenerationRun(new FileRunStore(Path.Combine(dir, "runs")), client, new InProcessDeduplicator()).RunAsync(spec, cancellationToken);
                    Row(table, $"end-to-end, concurrency {concurrency}",
                        $"{result.Kept:N0} kept of {result.Generated:N0} items in {result.Rounds} rounds ({result.RejectedByReason.GetValueOrDefault("rouge_duplicate")} ROUGE dups)",
                        watch.Elapsed, result.Kept, "kept/s");
                }
                finally
                {
                    Directory.Delete(dir, recursive: true);
                }
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[grey]{0} cores; prompt chars {1:N0}[/]", Environment.ProcessorCount, chars);
            return 0;
        });
        return command;
    }

    private static void Row(Table table, string stage, string work, TimeSpan elapsed, double units, string unit) =>
        table.AddRow(stage, work, elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture),
            (units / Math.Max(elapsed.TotalSeconds, 1e-9)).ToString("N0", CultureInfo.InvariantCulture) + " " + unit);

    private static List<(string Instruction, string Input, string Output)> Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var doc = JsonDocument.Parse(stream);
        return [.. doc.RootElement.EnumerateArray().Select(e => (e.GetProperty("instruction").GetString()!, e.GetProperty("input").GetString()!, e.GetProperty("output").GetString()!))];
    }
}
