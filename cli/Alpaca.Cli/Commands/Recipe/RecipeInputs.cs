using Alpaca.Generator.Seeds;
using Alpaca.Trainer.Data;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>
/// The recipe's inputs, fetched and checked before anything heavy starts (the embedded platform, a generator run,
/// a training job): a data set that is tampered with (SHA-256 mismatch) or malformed, or seed tasks that do not
/// parse, are reported at once, in well under a second, instead of after the platform has started.
/// </summary>
internal sealed record RecipeInputs(string? DataPath, IReadOnlyList<AlpacaRecord>? Records)
{
    /// <summary>
    /// With --data (or neither --data nor --teacher): the file, downloaded and verified where it is a URL, and its
    /// first N records, validated by the trainer's reader. With --teacher: the seed tasks (fetched and verified when
    /// not given) read once, so a bad file fails here; <paramref name="options"/> then names the verified local copy.
    /// </summary>
    public static async Task<(RecipeOptions Options, RecipeInputs Inputs)> PrepareAsync(RecipeOptions options, CancellationToken cancellationToken)
    {
        var downloads = Path.Combine(options.StateDir, "downloads");
        if (options.TeacherUrl is not null)
        {
            var seeds = options.Seeds ?? await VerifiedDownload.FetchAsync(RecipeGeneration.SeedTasks, downloads, Log, cancellationToken);
            _ = SeedTaskReader.Read(seeds);
            return (options with { Seeds = seeds }, new RecipeInputs(null, null));
        }

        var path = await RecipeData.ResolveAsync(options.Data, options.DataSha256, downloads, Log, cancellationToken);
        return (options, new RecipeInputs(path, RecipeData.Take(path, options.Records)));
    }

    private static void Log(string line) => Console.Error.WriteLine("alpaca recipe: " + line);
}
