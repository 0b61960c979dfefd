using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Seeds;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// The size checks of a StartRun request (<see cref="GeneratorLimits"/>), made before anything else about it: every
/// string field bounded, the seed list and the batch sizes bounded. Each refusal names the field and the limit.
/// </summary>
public static class RunRequestLimits
{
    public static void Check(StartRunRequest request, GeneratorLimits limits)
    {
        Field("run_id", request.RunId, limits.MaxFieldChars);
        if (request.Spec is not { } spec)
        {
            return; // "spec is required." comes from the spec factory
        }

        Field("spec.seed_tasks_path", spec.SeedTasksPath, limits.MaxFieldChars);
        Field("spec.prompt_path", spec.PromptPath, limits.MaxFieldChars);
        Field("spec.prompt_text", spec.PromptText, limits.MaxTextChars);
        Field("spec.output_dir", spec.OutputDir, limits.MaxFieldChars);
        Field("spec.display_name", spec.DisplayName, limits.MaxFieldChars);
        Range("spec.num_instructions", spec.NumInstructions, limits.MaxNumInstructions);
        if (spec.SeedTasks is { } seeds)
        {
            if (seeds.Tasks.Count > limits.MaxSeedTasks)
            {
                throw new GeneratorInputException($"spec.seed_tasks.tasks has {seeds.Tasks.Count} tasks; at most {limits.MaxSeedTasks} are accepted.");
            }

            for (var i = 0; i < seeds.Tasks.Count; i++)
            {
                var t = seeds.Tasks[i];
                Field($"spec.seed_tasks.tasks[{i}].id", t.Id, limits.MaxFieldChars);
                Field($"spec.seed_tasks.tasks[{i}].instruction", t.Instruction, limits.MaxTextChars);
                Field($"spec.seed_tasks.tasks[{i}].input", t.Input, limits.MaxTextChars);
                Field($"spec.seed_tasks.tasks[{i}].output", t.Output, limits.MaxTextChars);
            }
        }

        if (spec.Teacher is { } teacher)
        {
            Field("spec.teacher.base_url", teacher.BaseUrl, limits.MaxFieldChars);
            Field("spec.teacher.model", teacher.Model, limits.MaxFieldChars);
            Field("spec.teacher.api_key_env", teacher.ApiKeyEnv, limits.MaxFieldChars);
            Field("spec.teacher.api_key_file", teacher.ApiKeyFile, limits.MaxFieldChars);
            Field("spec.teacher.name", teacher.Name, limits.MaxFieldChars);
            Range("spec.teacher.concurrency", teacher.Concurrency, limits.MaxConcurrency);
            Range("spec.teacher.max_retries", teacher.MaxRetries, limits.MaxRetries);
            Span("spec.teacher.request_timeout", teacher.RequestTimeout, limits.MaxRequestTimeout);
            Span("spec.teacher.unreachable_budget", teacher.UnreachableBudget, limits.MaxUnreachableBudget);
        }

        if (spec.Sampling is { } sampling)
        {
            Range("spec.sampling.request_batch_size", sampling.RequestBatchSize, limits.MaxRequestBatchSize);
            Range("spec.sampling.num_prompt_instructions", sampling.NumPromptInstructions, limits.MaxPromptInstructions);
            Range("spec.sampling.max_tokens", sampling.MaxTokens, limits.MaxTeacherTokens);
            if (sampling.Stop.Count > limits.MaxStops)
            {
                throw new GeneratorInputException($"spec.sampling.stop has {sampling.Stop.Count} sequences; at most {limits.MaxStops} are accepted.");
            }

            for (var i = 0; i < sampling.Stop.Count; i++)
            {
                Field($"spec.sampling.stop[{i}]", sampling.Stop[i], limits.MaxStopChars);
            }
        }
    }

    private static void Field(string name, string value, int max)
    {
        if (value.Length > max)
        {
            throw new GeneratorInputException($"{name} has {value.Length} characters; at most {max} are accepted.");
        }
    }

    private static void Span(string name, Google.Protobuf.WellKnownTypes.Duration? value, TimeSpan max)
    {
        if (value is not null && value.ToTimeSpan() > max)
        {
            throw new GeneratorInputException($"{name} = {value.ToTimeSpan()} exceeds this server's limit of {max}.");
        }
    }

    // Zero means the reference's default and negatives are the spec's own error; only the upper bound is checked here.
    private static void Range(string name, int value, int max)
    {
        if (value > max)
        {
            throw new GeneratorInputException($"{name} = {value} exceeds this server's limit of {max}.");
        }
    }
}
