using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Prompts;
using Alpaca.Generator.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using SeedTask = Alpaca.Generator.Seeds.SeedTask;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// Turns a StartRun request into the core's <see cref="SelfInstructRunSpec"/> and <see cref="TeacherOptions"/>.
/// Every problem is a <see cref="GeneratorInputException"/> naming the field (or the seed file's line), which
/// the gRPC layer answers with INVALID_ARGUMENT. Zero values mean the reference's defaults.
/// </summary>
public static class RunSpecFactory
{
    public static SelfInstructRunSpec BuildSpec(string runId, RunSpec request, GeneratorOptions options, RunPaths paths, RunTeachers teachers)
    {
        // Every caller-named path is confined before anything opens it (PathConfinementException).
        var seedsPath = request.SeedsCase == RunSpec.SeedsOneofCase.SeedTasksPath ? paths.Read(request.SeedTasksPath, "spec.seed_tasks_path") : null;
        var promptPath = request.PromptCase == RunSpec.PromptOneofCase.PromptPath ? paths.Read(request.PromptPath, "spec.prompt_path") : null;
        var outputDir = string.IsNullOrWhiteSpace(request.OutputDir) ? Path.GetFullPath(Path.Combine(options.DataDirectory, runId)) : paths.Output(request.OutputDir);
        var seeds = request.SeedsCase switch
        {
            RunSpec.SeedsOneofCase.SeedTasksPath => SeedTaskReader.Read(seedsPath!),
            RunSpec.SeedsOneofCase.SeedTasks => InlineSeeds(request.SeedTasks),
            _ => throw new GeneratorInputException("spec.seeds: give seed_tasks_path or seed_tasks."),
        };
        var prompt = request.PromptCase switch
        {
            RunSpec.PromptOneofCase.PromptPath => PromptTemplate.FromFile(promptPath!),
            RunSpec.PromptOneofCase.PromptText => PromptTemplate.FromText(request.PromptText),
            _ => PromptTemplate.Default,
        };
        var teacher = request.Teacher ?? throw new GeneratorInputException("spec.teacher is required.");
        var endpoint = teachers.Resolve(teacher);
        var sampling = request.Sampling ?? new GenerationSampling();
        var reference = new TeacherSampling();
        var spec = new SelfInstructRunSpec
        {
            RunId = runId,
            Seeds = seeds,
            PromptText = prompt.Text,
            PromptSource = prompt.Source,
            NumInstructions = request.NumInstructions,
            OutputDir = outputDir,
            NumPromptInstructions = Or(sampling.NumPromptInstructions, 3),
            RequestBatchSize = Or(sampling.RequestBatchSize, 5),
            Sampling = reference with
            {
                Temperature = sampling.HasTemperature ? sampling.Temperature : reference.Temperature,
                TopP = sampling.HasTopP ? sampling.TopP : reference.TopP,
                MaxTokens = Or(sampling.MaxTokens, reference.MaxTokens),
                Stop = sampling.Stop.Count > 0 ? [.. sampling.Stop] : reference.Stop,
                LogitBias = sampling.NoLogitBias ? new Dictionary<string, int>() : reference.LogitBias,
            },
            Seed = sampling.HasSeed ? sampling.Seed : null,
            DedupExtras = request.DedupExtras,
            CleaningChecks = request.CleaningChecks,
            Concurrency = Or(teacher.Concurrency, 1),
            UnreachableBudget = teacher.UnreachableBudget is { } budget ? budget.ToTimeSpan() : options.UnreachableBudget,
            PauseDelay = options.PauseDelay,
            ExportInterval = options.ExportInterval,
            PromptPricePer1K = teacher.PromptPricePer1K,
            CompletionPricePer1K = teacher.CompletionPricePer1K,
            Teacher = endpoint.Description,
        };
        spec.Validate();
        if (spec.UnreachableBudget <= TimeSpan.Zero)
        {
            throw new GeneratorInputException($"spec.teacher.unreachable_budget must be positive, got {spec.UnreachableBudget}.");
        }

        return spec;
    }

    /// <summary>The teacher client's options; the API key is read here, in the service, from the named teacher's configuration.</summary>
    public static TeacherOptions BuildTeacher(RunSpec request, GeneratorOptions options, RunTeachers teachers)
    {
        var teacher = request.Teacher ?? throw new GeneratorInputException("spec.teacher is required.");
        var endpoint = teachers.Resolve(teacher);
        if (teacher.MaxRetries < 0)
        {
            throw new GeneratorInputException($"spec.teacher.max_retries must not be negative, got {teacher.MaxRetries}.");
        }

        var retry = new RetryPolicy { BaseDelay = options.RetryBaseDelay };
        return new TeacherOptions
        {
            BaseUrl = endpoint.BaseUrl,
            Model = endpoint.Model,
            Api = endpoint.Api,
            ApiKey = endpoint.ApiKey,
            Outbound = endpoint.Outbound,
            MaxResponseBytes = options.MaxTeacherResponseBytes,
            Organization = Environment.GetEnvironmentVariable("OPENAI_ORG"),
            RequestTimeout = teacher.RequestTimeout is { } timeout && timeout.ToTimeSpan() > TimeSpan.Zero ? timeout.ToTimeSpan() : TimeSpan.FromMinutes(5),

            // max_retries is a plain int32, so 0 cannot mean "the default": it means no retries.
            Retry = retry with { MaxRetries = teacher.MaxRetries },
            BatchPrompts = !teacher.UnbatchedPrompts,
            PromptPricePer1K = teacher.PromptPricePer1K,
            CompletionPricePer1K = teacher.CompletionPricePer1K,
        };
    }

    private static List<SeedTask> InlineSeeds(SeedTasks tasks)
    {
        var errors = new List<string>();
        var seeds = new List<SeedTask>(tasks.Tasks.Count);
        for (var i = 0; i < tasks.Tasks.Count; i++)
        {
            var t = tasks.Tasks[i];
            if (string.IsNullOrWhiteSpace(t.Instruction))
            {
                errors.Add($"spec.seed_tasks.tasks[{i}]: field 'instruction' is empty");
                continue;
            }

            seeds.Add(new SeedTask(string.IsNullOrEmpty(t.Id) ? $"seed_{i}" : t.Id, t.Instruction, t.Input, t.Output));
        }

        if (errors.Count > 0)
        {
            throw new GeneratorInputException($"{errors.Count} malformed seed task(s):\n{string.Join('\n', errors.Take(20))}");
        }

        return seeds.Count > 0 ? seeds : throw new GeneratorInputException("spec.seed_tasks holds no tasks.");
    }

    private static int Or(int value, int fallback) => value > 0 ? value : fallback;
}
