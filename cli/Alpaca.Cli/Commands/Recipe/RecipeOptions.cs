using System.Security.Cryptography;
using System.Text;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>Everything <c>alpaca recipe</c> was asked for; the inputs that shape the result also name its runs and jobs.</summary>
internal sealed record RecipeOptions
{
    public string? Data { get; init; }

    public string? DataSha256 { get; init; }

    public string Base { get; init; } = "tiny";

    public int Records { get; init; } = 300;

    public string? TeacherUrl { get; init; }

    public string? TeacherModel { get; init; }

    /// <summary>
    /// The teacher the run names on the generator service: <see cref="TeacherUrl"/> when it is a name (a teacher the
    /// service configures), or <see cref="RecipeGeneration.EmbeddedTeacher"/> when the embedded platform registered the URL.
    /// Null: <see cref="TeacherUrl"/> goes to the service as a custom teacher (admin only, where the operator allows it).
    /// </summary>
    public string? TeacherName { get; init; }

    /// <summary>True when --teacher is a URL rather than the name of a configured teacher.</summary>
    public bool TeacherIsUrl => TeacherUrl is not null && Uri.TryCreate(TeacherUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https";

    public string TeacherApi { get; init; } = "completions";

    public string? Seeds { get; init; }

    public required string StateDir { get; init; }

    public int Epochs { get; init; } = 3;

    public int MaxSteps { get; init; }

    public double? LearningRate { get; init; }

    public int BatchSize { get; init; } = 16;

    public int MicroBatch { get; init; } = 8;

    public int MaxLength { get; init; } = 256;

    public ulong Seed { get; init; } = 42;

    public string Quant { get; init; } = "auto";

    public string? ModelName { get; init; }

    public string? EvalSuite { get; init; }

    public string? EvalPredictions { get; init; }

    public int EvalLimit { get; init; } = 5;

    public bool IsTiny => string.Equals(Base, "tiny", StringComparison.OrdinalIgnoreCase);

    /// <summary>Alpaca's 2e-5 for a pretrained base; a randomly initialised tiny model needs far more to learn in minutes.</summary>
    public double EffectiveLearningRate => LearningRate ?? (IsTiny ? 3e-3 : 2e-5);

    /// <summary>
    /// The recipe's id: a digest of the data (or of the generation request) and of every training input. The same
    /// command gets the same id, so its runs and jobs are found again and resumed; another input is another recipe.
    /// </summary>
    public string Id(string dataDigest)
    {
        var key = string.Join('\n', "recipe/v1", dataDigest, Base.ToLowerInvariant(), IsTiny ? "" : Path.GetFullPath(Base), Epochs, MaxSteps,
            EffectiveLearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture), BatchSize, MicroBatch, MaxLength, Seed, Quant);
        return "recipe-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];
    }
}
