using System.CommandLine;
using Alpaca.Dedup.Rouge;
using Alpaca.Reference;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary><c>alpaca dedup score --pairs FILE [--out FILE]</c>: rouge_score's rougeL of each pair (a = target, b = prediction).</summary>
public static class ScoreCommand
{
    public static Command Build()
    {
        var pairs = new Option<string>("--pairs") { Description = "JSONL with fields a (target) and b (prediction).", Required = true };
        var output = new Option<string?>("--out") { Description = "Output JSONL (default: standard output)." };
        var command = new Command("score", "Score pairs: each line is written back with precision, recall and fmeasure added.") { pairs, output };
        command.SetAction(parse => DedupCommand.Guard(() =>
        {
            var records = JsonInput.Read(parse.GetValue(pairs)!);
            var scored = records.Select(r => RougeScore.Score(r.RequiredString("a"), r.RequiredString("b"))).ToList();
            using var writer = DedupCommand.OpenOutput(parse.GetValue(output));
            for (var i = 0; i < records.Count; i++)
            {
                records[i].WriteWith(writer,
                [
                    ("precision", PyJson.Float(scored[i].Precision)),
                    ("recall", PyJson.Float(scored[i].Recall)),
                    ("fmeasure", PyJson.Float(scored[i].FMeasure)),
                ]);
            }
        }));
        return command;
    }
}
