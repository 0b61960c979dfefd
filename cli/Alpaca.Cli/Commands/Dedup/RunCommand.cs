using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Alpaca.Dedup.Batch;
using Alpaca.Dedup.Pool;
using Alpaca.Reference;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary>
/// <c>alpaca dedup run --seeds FILE --input FILE [--limit N] [--alpaca-fields] --out FILE</c>: Alpaca's
/// greedy dedup of the input's instructions, seeded with the seed tasks; one output line per candidate,
/// a summary with timings on standard error.
/// </summary>
public static class RunCommand
{
    public static Command Build()
    {
        var seeds = new Option<string>("--seeds") { Description = "Seed-task JSONL (uses 'instruction').", Required = true };
        var input = new Option<string>("--input") { Description = "JSON array or JSONL of objects with 'instruction' (other fields are kept).", Required = true };
        var limit = new Option<int?>("--limit") { Description = "Only the first N candidates." };
        var alpacaFields = new Option<bool>("--alpaca-fields") { Description = "Add most_similar_instructions and avg_similarity_score to kept candidates (scores every pair)." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: every core)." };
        var output = new Option<string>("--out") { Description = "Output JSONL, one line per candidate in order.", Required = true };
        var command = new Command("run", "Alpaca's greedy ROUGE-L dedup of candidates against a pool seeded with seed tasks.") { seeds, input, limit, alpacaFields, threads, output };
        command.SetAction(parse => DedupCommand.Guard(() =>
        {
            var total = Stopwatch.StartNew();
            if (parse.GetValue(limit) is < 0)
            {
                throw new InputException("--limit must be 0 or more");
            }

            if (parse.GetValue(threads) is < 1)
            {
                throw new InputException("--threads must be 1 or more");
            }

            var seedTexts = JsonInput.Read(parse.GetValue(seeds)!).Select(r => r.RequiredString("instruction")).ToList();
            var records = JsonInput.Read(parse.GetValue(input)!);
            if (parse.GetValue(limit) is { } n && n < records.Count)
            {
                records = records.GetRange(0, n);
            }

            var texts = records.Select(r => r.RequiredString("instruction")).ToList();
            var load = total.Elapsed;

            var extras = parse.GetValue(alpacaFields);
            var result = GreedyDedup.Run(seedTexts, texts, new GreedyDedupOptions(AlpacaExtras: extras, Threads: parse.GetValue(threads)));

            var watch = Stopwatch.StartNew();
            using (var writer = DedupCommand.OpenOutput(parse.GetValue(output)))
            {
                for (var i = 0; i < records.Count; i++)
                {
                    records[i].WriteWith(writer, Fields(i, result.Decisions[i], extras));
                }
            }

            Summary(result, seedTexts.Count, load, watch.Elapsed, total.Elapsed);
        }));
        return command;
    }

    private static List<(string, string)> Fields(int index, DedupDecision d, bool extras)
    {
        var fields = new List<(string, string)>(6)
        {
            ("index", index.ToString(CultureInfo.InvariantCulture)),
            ("kept", d.Kept ? "true" : "false"),
            ("max_f", PyJson.Float(d.MaxF)),
            ("most_similar", d.MostSimilar.ToString(CultureInfo.InvariantCulture)),
        };
        if (extras && d.Extras is { } e)
        {
            // Like the reference's dict: keyed by instruction text, highest score first; a repeated text keeps its first place.
            var similar = new StringBuilder("{");
            var written = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in e.MostSimilar)
            {
                if (written.Add(s.Instruction))
                {
                    similar.Append(written.Count > 1 ? "," : "").Append(PyJson.EncodeString(s.Instruction, ensureAscii: false)).Append(':').Append(PyJson.Float(s.Score));
                }
            }

            fields.Add(("most_similar_instructions", similar.Append('}').ToString()));
            // An empty pool's mean is NaN (numpy warns); strict JSON has no NaN, so it is written as null.
            fields.Add(("avg_similarity_score", double.IsNaN(e.AverageSimilarity) ? "null" : PyJson.Float(e.AverageSimilarity)));
        }

        return fields;
    }

    private static void Summary(GreedyDedupResult result, int seeds, TimeSpan load, TimeSpan write, TimeSpan total)
    {
        var s = result.Stats;
        var engine = result.Tokenize + result.Decide;
        var invariant = CultureInfo.InvariantCulture;
        Console.Error.WriteLine(string.Create(invariant,
            $"candidates {s.Decided:N0} · kept {s.Kept:N0} · rejected {s.Decided - s.Kept:N0} · seeds {seeds} · pool {result.Pool.Count:N0}"));
        Console.Error.WriteLine(string.Create(invariant,
            $"pairs: reference {s.PairsTotal:N0} · touched {s.PairsTouched:N0} · bounded {s.PairsBounded:N0} · LCS computed {s.PairsScored:N0} · avoided {s.PairsAvoided:N0} ({100.0 * s.PairsAvoided / Math.Max(1, s.PairsTotal):F4}%)"));
        Console.Error.WriteLine(string.Create(invariant,
            $"time: load {load.TotalSeconds:F3} s · tokenize {result.Tokenize.TotalSeconds:F3} s · decide {result.Decide.TotalSeconds:F3} s · write {write.TotalSeconds:F3} s · total {total.TotalSeconds:F3} s"));
        Console.Error.WriteLine(string.Create(invariant,
            $"engine (tokenize + decide): {engine.TotalSeconds:F3} s on {result.Threads} threads, {Environment.ProcessorCount} cores"));
    }
}
