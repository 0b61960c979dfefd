using System.CommandLine;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.WeightDiffs;

namespace Alpaca.Cli.Commands.Weights;

/// <summary>
/// <c>alpaca weights diff|recover</c>: Stanford Alpaca's weight_diff.py on (sharded) safetensors checkpoints, so a
/// fine-tune can be published as a difference against a base whose licence forbids redistribution.
/// </summary>
public static class WeightsCommand
{
    public static Command Build()
    {
        var command = new Command("weights", "Weight diffs against a base model, in the manner of Stanford Alpaca's weight_diff.py.");
        command.Subcommands.Add(BuildDiff());
        command.Subcommands.Add(BuildRecover());
        return command;
    }

    private static Command BuildDiff()
    {
        var baseOption = new Option<string>("--base") { Description = "The base checkpoint (HF folder of safetensors).", Required = true };
        var tuned = new Option<string>("--tuned") { Description = "The fine-tuned checkpoint, same tensor names, shapes and dtypes.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the diff (same shards and index, config and tokenizer files, weight_diff.json).", Required = true };
        var command = new Command("diff", "Write diff = tuned − base per element in each tensor's dtype.") { baseOption, tuned, output };
        command.SetAction(pr => Guard(() => WeightDiff.Create(pr.GetValue(baseOption)!, pr.GetValue(tuned)!, pr.GetValue(output)!, Options())));
        return command;
    }

    private static Command BuildRecover()
    {
        var baseOption = new Option<string>("--base") { Description = "The base checkpoint the diff was made against.", Required = true };
        var diff = new Option<string>("--diff") { Description = "The diff folder (with weight_diff.json).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the recovered checkpoint.", Required = true };
        var check = new Option<bool>("--check") { Description = "Read the written checkpoint back and check its hashes and parameter sum again." };
        var command = new Command("recover", "Write tuned = base + diff, verified bit-exactly against the tuned model's SHA-256s.") { baseOption, diff, output, check };
        command.SetAction(pr => Guard(() => WeightDiff.Recover(pr.GetValue(baseOption)!, pr.GetValue(diff)!, pr.GetValue(output)!, pr.GetValue(check), Options())));
        return command;
    }

    private static WeightDiffOptions Options() => new() { Log = line => Console.Error.WriteLine("  " + line) };

    /// <summary>Exit 0 with the report; 3 when the integrity check fails (wrong base, damaged diff); 2 for unreadable input.</summary>
    private static int Guard(Func<WeightDiffReport> work)
    {
        try
        {
            Console.WriteLine(work());
            return 0;
        }
        catch (WeightDiffIntegrityException e)
        {
            Console.Error.WriteLine("alpaca weights: " + e.Message);
            return 3;
        }
        catch (Exception e) when (e is SafetensorsFormatException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
            or ArgumentException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("alpaca weights: " + e.Message);
            return 2;
        }
    }
}
