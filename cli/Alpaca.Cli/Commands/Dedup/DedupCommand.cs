using System.CommandLine;

namespace Alpaca.Cli.Commands.Dedup;

/// <summary><c>alpaca dedup score|run</c>: exact ROUGE-L scoring and Alpaca's greedy dedup on files.</summary>
public static class DedupCommand
{
    public static Command Build()
    {
        var command = new Command("dedup", "Exact ROUGE-L de-duplication (rouge_score 0.1.2, rougeL, Alpaca's ≤ 0.7 rule).");
        command.Subcommands.Add(ScoreCommand.Build());
        command.Subcommands.Add(RunCommand.Build());
        return command;
    }

    /// <summary>Runs a command body; bad input prints the message (file and line) and exits 2.</summary>
    internal static int Guard(Action action)
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

    /// <summary>The output file, or standard output when no path is given.</summary>
    internal static Stream OpenOutput(string? path)
    {
        if (path is null)
        {
            return new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
        }

        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot write: {ex.Message}");
        }
    }
}
