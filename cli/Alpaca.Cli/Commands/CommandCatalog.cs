using System.CommandLine;

namespace Alpaca.Cli.Commands;

/// <summary>Every top-level command of the <c>alpaca</c> tool, one line each.</summary>
public static class CommandCatalog
{
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Alpaca: Self-Instruct data, ROUGE-L dedup, fine-tuning and quantized inference as services.");
        foreach (var command in All())
        {
            root.Subcommands.Add(command);
        }

        root.Options.Add(CliAuth.ApiKeyOption);

        return root;
    }

    // One line per command group; each lives in its own file or folder under Commands/.
    private static IEnumerable<Command> All() =>
    [
        Platform.UpCommand.Build(),
        Platform.StatusCommand.Build(),
        Dedup.DedupCommand.Build(),
        Train.TrainCommand.Build(),
        ConvertModels.ConvertCommand.Build(),
        GenerateData.GenerateDataCommand.Build(),
        Tokenize.TokenizeCommand.Build(),
        Engine.BenchCommand.Build(),
        Engine.GenerateCommand.Build(),
        Models.ModelsCommand.Build(),
        LoadTest.LoadTestCommand.Build(),
        Keys.KeysCommand.Build(),
        Recipe.RecipeCommand.Build(),
        Eval.EvalCommand.Build(),
        Weights.WeightsCommand.Build(),
        Pull.PullCommand.Build(),
        // <commands>
    ];
}
