using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Alpaca.Dedup.Batch;
using Alpaca.Dedup.Pool;
using Alpaca.Dedup.Rouge;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary><c>alpaca dedup score|run</c>: exact ROUGE-L scoring and Alpaca's greedy dedup on files.</summary>
public static class DedupCommand
{
    public static Command Build()
    {
        var command = new Command("dedup", "Exact ROUGE-L de-duplication (rouge_score 0.1.2, rougeL, Alpaca's ≤ 0.7 rule).");
        command.Subcommands.Add(Score());
        command.Subcommands.Add(Run());
        return command;
    }

    private static Command Score()
    {
        var pairs = new Option<string>("--pairs") { Description = "JSONL with fields a (target) and b (prediction).", Required = true };
        var output = new Option<string?>("--out") { Description = "Output JSONL (default: standard output)." };
        var command = new Command("score", "Score pairs: each line gets precision, recall and fmeasure added.") { pairs, output };
        command.SetAction(parse => Guard(() =>
        {
            var path = parse.GetValue(pairs)!;
            var rows = JsonLines.ReadObjects(path);
            using var writer = OpenOutput(parse.GetValue(output));
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                var score = RougeScore.Score(JsonLines.RequiredString(row, "a", path, i), JsonLines.RequiredString(row, "b", path, i));
                row["precision"] = JsonLines.Number(score.Precision);
                row["recall"] = JsonLines.Number(score.Recall);
                row["fmeasure"] = JsonLines.Number(score.FMeasure);
                writer.WriteLine(row.ToJsonString());
            }
        }));
        return command;
    }

    private static Command Run()
    {
        var seeds = new Option<string>("--seeds") { Description = "Seed-task JSONL (uses 'instruction').", Required = true };
        var input = new Option<string>("--input") { Description = "JSON array or JSONL of objects with 'instruction'.", Required = true };
        var limit = new Option<int?>("--limit") { Description = "Only the first N candidates." };
        var alpacaFields = new Option<bool>("--alpaca-fields") { Description = "Add most_similar_instructions and avg_similarity_score (scores every pair)." };
        var output = new Option<string>("--out") { Description = "Output JSONL, one line per candidate.", Required = true };
        var command = new Command("run", "Alpaca's greedy dedup of candidates against a pool seeded with seed tasks.") { seeds, input, limit, alpacaFields, output };
        command.SetAction(parse => Guard(() =>
        {
            var total = Stopwatch.StartNew();
            var seedPath = parse.GetValue(seeds)!;
            var inputPath = parse.GetValue(input)!;
            var seedRows = JsonLines.ReadObjects(seedPath);
            var seedTexts = seedRows.Select((r, i) => JsonLines.RequiredString(r, "instruction", seedPath, i)).ToList();
            var candidates = JsonLines.ReadObjects(inputPath);
            if (parse.GetValue(limit) is { } n)
            {
                candidates = candidates.Take(Math.Max(0, n)).ToList();
            }

            var texts = candidates.Select((r, i) => JsonLines.RequiredString(r, "instruction", inputPath, i)).ToList();
            var load = total.Elapsed;

            var extras = parse.GetValue(alpacaFields);
            DedupDecision[] decisions;
            DedupStats stats;
            TimeSpan tokenize, decide, score = TimeSpan.Zero;
            var watch = Stopwatch.StartNew();
            if (extras)
            {
                // The extras need every pair's F, so no pruning: the pool scores each candidate fully.
                var pool = new DedupPool();
                var seedTokens = seedTexts.Select(pool.Tokenize).ToList();
                var tokens = texts.Select(pool.Tokenize).ToList();
                tokenize = watch.Elapsed;
                watch.Restart();
                for (var i = 0; i < seedTexts.Count; i++)
                {
                    pool.Add(seedTexts[i], seedTokens[i]);
                }

                decisions = new DedupDecision[texts.Count];
                for (var i = 0; i < texts.Count; i++)
                {
                    decisions[i] = pool.Submit(texts[i], tokens[i], withExtras: true);
                }

                decide = watch.Elapsed;
                stats = pool.Stats;
            }
            else
            {
                var result = GreedyDedup.Run(seedTexts, texts);
                (decisions, stats, tokenize, decide, score) = ([.. result.Decisions], result.Stats, result.Tokenize, result.Decide, result.Score);
            }

            watch.Restart();
            using (var writer = OpenOutput(parse.GetValue(output)))
            {
                for (var i = 0; i < decisions.Length; i++)
                {
                    var row = candidates[i];
                    var d = decisions[i];
                    row["index"] = i;
                    row["kept"] = d.Kept;
                    row["max_f"] = JsonLines.Number(d.MaxF);
                    row["most_similar"] = d.MostSimilar;
                    if (extras && d.Extras is { } e)
                    {
                        var similar = new JsonObject();
                        foreach (var s in e.MostSimilar)
                        {
                            similar[s.Instruction] = JsonLines.Number(s.Score);
                        }

                        row["most_similar_instructions"] = similar;
                        row["avg_similarity_score"] = JsonLines.Number(e.AverageSimilarity);
                    }

                    writer.WriteLine(row.ToJsonString());
                }
            }

            var write = watch.Elapsed;
            Console.Error.WriteLine(
                $"candidates {texts.Count:N0} · kept {stats.Kept:N0} · rejected {texts.Count - stats.Kept:N0} · seeds {seedTexts.Count}\n" +
                $"pairs: reference {stats.PairsTotal:N0} · touched {stats.PairsTouched:N0} · LCS computed {stats.PairsScored:N0} · avoided {stats.PairsAvoided:N0} ({100.0 * stats.PairsAvoided / Math.Max(1, stats.PairsTotal):F4}%)\n" +
                $"time: load {load.TotalSeconds:F3} s · tokenize {tokenize.TotalSeconds:F3} s · decide {decide.TotalSeconds:F3} s · max-F of kept {score.TotalSeconds:F3} s · write {write.TotalSeconds:F3} s · total {total.Elapsed.TotalSeconds:F3} s\n" +
                $"engine: decisions {(tokenize + decide).TotalSeconds:F3} s (tokenize + decide), all outputs {(tokenize + decide + score).TotalSeconds:F3} s, {Environment.ProcessorCount} cores");
        }));
        return command;
    }

    private static TextWriter OpenOutput(string? path) =>
        path is null ? new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false } : new StreamWriter(path);

    private static int Guard(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (InputException ex)
        {
            Console.Error.WriteLine("alpaca dedup: " + ex.Message);
            return 2;
        }
    }
}
