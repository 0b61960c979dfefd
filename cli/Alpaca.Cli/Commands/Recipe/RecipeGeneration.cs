using System.Security.Cryptography;
using Alpaca.Cli.Commands.GenerateData;
using Alpaca.Contracts.V1;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using Google.Protobuf;
using CoreTeacherApi = Alpaca.Generator.Teacher.TeacherApi;

namespace Alpaca.Cli.Commands.Recipe;

/// <summary>
/// The generator run the recipe asks for with <c>--teacher</c>: the seed tasks (given, or the 175 of
/// stanford_alpaca fetched and checked by SHA-256), our default prompt, the reference's sampling, and
/// <c>--records</c> instructions to keep, sent as <c>alpaca generate-data --gateway</c> sends them.
/// </summary>
internal static class RecipeGeneration
{
    /// <summary>The name under which the embedded platform registers the URL given with --teacher.</summary>
    public const string EmbeddedTeacher = "recipe";

    public static readonly PinnedFile SeedTasks = new(
        new Uri("https://raw.githubusercontent.com/tatsu-lab/stanford_alpaca/761dc5bfbdeeffa89b8bff5d038781a4055f796a/seed_tasks.jsonl"),
        "7779004fa198fdf27cf70a159363879d8a26c53329e11b436af17b3941875f48", "seed_tasks.jsonl");

    public static async Task<StartRunRequest> RequestAsync(RecipeOptions options, string downloads, CancellationToken cancellationToken)
    {
        var seedsPath = options.Seeds ?? await VerifiedDownload.FetchAsync(SeedTasks, downloads, null, cancellationToken);
        var api = options.TeacherApi.Trim().ToLowerInvariant() switch
        {
            "completions" => CoreTeacherApi.Completions,
            "chat" or "chat-completions" => CoreTeacherApi.ChatCompletions,
            var other => throw new ArgumentException($"--teacher-api must be completions or chat; got '{other}'."),
        };
        var model = options.TeacherModel ?? (options.TeacherName is not null ? "" : throw new ArgumentException("--teacher needs --teacher-model NAME."));
        var sampling = new TeacherSampling();
        var spec = new SelfInstructRunSpec
        {
            RunId = "recipe",
            Seeds = SeedTaskReader.Read(seedsPath),
            PromptText = PromptTemplate.Default.Text,
            NumInstructions = options.Records,
            OutputDir = "",
            Seed = options.Seed,
            Sampling = sampling,
        };
        var teacher = new RemoteGeneration.Teacher(options.TeacherName, options.TeacherName is null ? options.TeacherUrl : null, model, api, TimeSpan.FromSeconds(300), 6, Unbatched: false);
        return RemoteGeneration.Request(spec, teacher, null);
    }

    /// <summary>The request without its run id, hashed: the same seeds, teacher and sampling name the same run.</summary>
    public static string Digest(StartRunRequest request)
    {
        var copy = request.Clone();
        copy.RunId = "";
        copy.Spec.DisplayName = "";
        return Convert.ToHexStringLower(SHA256.HashData(copy.ToByteArray()));
    }
}
