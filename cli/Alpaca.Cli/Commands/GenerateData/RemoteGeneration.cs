using System.Runtime.CompilerServices;
using Alpaca.Contracts.V1;
using Alpaca.Generator.Runs;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Spectre.Console;
using CoreTeacherApi = Alpaca.Generator.Teacher.TeacherApi;
using RunProgress = Alpaca.Generator.Runs.RunProgress;
using TeacherApi = Alpaca.Contracts.V1.TeacherApi;

namespace Alpaca.Cli.Commands.GenerateData;

/// <summary>
/// <c>alpaca generate-data --gateway URL</c>: the run goes to the generator service of a running platform
/// (StartRun through the gateway) and the command shows its progress from WatchRun. Seeds and the prompt are
/// read here and sent inline, so the service needs no access to this machine's files. The teacher is one the
/// service configured (--teacher NAME), whose key only the service holds; a --teacher-url is a custom teacher,
/// which the service accepts only from an admin key when its operator allows it, and calls without a key.
/// Starting the same --run-id again re-attaches to that run. Ctrl+C stops watching, not the run.
/// </summary>
internal static class RemoteGeneration
{
    /// <summary>Either <paramref name="Name"/> (a teacher configured on the service) or <paramref name="BaseUrl"/> (a custom one).</summary>
    public sealed record Teacher(string? Name, string? BaseUrl, string Model, CoreTeacherApi Api, TimeSpan RequestTimeout, int MaxRetries, bool Unbatched);

    public static StartRunRequest Request(SelfInstructRunSpec spec, Teacher teacher, string? outputDir)
    {
        var seeds = new SeedTasks();
        seeds.Tasks.Add(spec.Seeds.Select(s => new SeedTask { Id = s.Id, Instruction = s.Instruction, Input = s.Input, Output = s.Output }));
        var sampling = new GenerationSampling
        {
            NumPromptInstructions = spec.NumPromptInstructions,
            RequestBatchSize = spec.RequestBatchSize,
            Temperature = spec.Sampling.Temperature,
            TopP = spec.Sampling.TopP,
            MaxTokens = spec.Sampling.MaxTokens,
            NoLogitBias = spec.Sampling.LogitBias.Count == 0,
        };
        sampling.Stop.Add(spec.Sampling.Stop);
        if (spec.Seed is { } seed)
        {
            sampling.Seed = seed;
        }

        return new StartRunRequest
        {
            RunId = spec.RunId,
            Spec = new RunSpec
            {
                SeedTasks = seeds,
                PromptText = spec.PromptText,
                Teacher = new TeacherConfig
                {
                    Name = teacher.Name ?? "",
                    BaseUrl = teacher.BaseUrl ?? "",
                    Model = teacher.Model,

                    // A named teacher's API is the operator's choice.
                    Api = teacher.Name is not null ? TeacherApi.Unspecified : teacher.Api == CoreTeacherApi.ChatCompletions ? TeacherApi.ChatCompletions : TeacherApi.Completions,
                    RequestTimeout = Duration.FromTimeSpan(teacher.RequestTimeout),
                    MaxRetries = teacher.MaxRetries,
                    Concurrency = spec.Concurrency,
                    UnreachableBudget = Duration.FromTimeSpan(spec.UnreachableBudget),
                    PromptPricePer1K = spec.PromptPricePer1K,
                    CompletionPricePer1K = spec.CompletionPricePer1K,
                    UnbatchedPrompts = teacher.Unbatched,
                },
                NumInstructions = spec.NumInstructions,
                Sampling = sampling,
                DedupExtras = spec.DedupExtras,
                CleaningChecks = spec.CleaningChecks,
                OutputDir = outputDir ?? "",
                DisplayName = spec.RunId,
            },
        };
    }

    /// <summary>Starts (or re-attaches to) the run and watches it; returns the exit code.</summary>
    public static async Task<int> RunAsync(Uri gateway, StartRunRequest request, CancellationToken cancellationToken)
    {
        using var channel = CliAuth.Channel(gateway);
        var client = new GeneratorService.GeneratorServiceClient(channel);
        Run started;
        try
        {
            started = (await client.StartRunAsync(request, cancellationToken: cancellationToken)).Run;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            AnsiConsole.MarkupLine("[red]error[/]: " + Markup.Escape(e.Status.Detail));
            return 2;
        }
        catch (RpcException e)
        {
            AnsiConsole.MarkupLine($"[red]error[/]: the generator service at {Markup.Escape(gateway.ToString())} answered {e.StatusCode}: {Markup.Escape(e.Status.Detail)}");
            return 1;
        }

        AnsiConsole.MarkupLine($"run [bold]{Markup.Escape(started.Id)}[/] in the service at {Markup.Escape(gateway.ToString())} ({started.State})");
        RunProgress? last;
        try
        {
            last = await GenerateProgressView.WatchAsync(WatchAsync(client, started.Id, cancellationToken), cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException || (e is RpcException { StatusCode: StatusCode.Cancelled } && cancellationToken.IsCancellationRequested))
        {
            AnsiConsole.MarkupLine($"[yellow]stopped watching[/]: the run goes on in the service; run the same command to watch it again.");
            return 130;
        }

        if (last is null)
        {
            AnsiConsole.MarkupLine("[red]error[/]: the service ended the watch without a snapshot.");
            return 1;
        }

        GenerateProgressView.PrintSummary(last);
        if (last.Status == RunStatus.Succeeded && last.DatasetId is { Length: > 0 } id)
        {
            AnsiConsole.MarkupLine($"[green]published[/] dataset [bold]{Markup.Escape(id)}[/]");
        }

        return last.Status == RunStatus.Succeeded ? 0 : 1;
    }

    private static async IAsyncEnumerable<RunProgress> WatchAsync(GeneratorService.GeneratorServiceClient client, string runId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = client.WatchRun(new WatchRunRequest { RunId = runId }, cancellationToken: cancellationToken);
        await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            yield return ToProgress(response.Run);
        }
    }

    /// <summary>The contract's snapshot in the shape the live display draws.</summary>
    internal static RunProgress ToProgress(Run run)
    {
        var p = run.Progress ?? new Contracts.V1.RunProgress();
        var target = run.Spec?.NumInstructions ?? 0;
        var remaining = Math.Max(0, target - p.Kept);
        return new RunProgress
        {
            RunId = run.Id,
            Status = run.State switch
            {
                RunState.Running => RunStatus.Running,
                RunState.Paused => RunStatus.Paused,
                RunState.Succeeded => RunStatus.Succeeded,
                RunState.Failed => RunStatus.Failed,
                RunState.Cancelled => RunStatus.Cancelled,
                _ => RunStatus.Queued,
            },
            Error = string.IsNullOrEmpty(run.Error) ? null : run.Error,
            Target = target,
            Kept = p.Kept,
            Rounds = p.Rounds,
            Generated = p.Generated,
            RejectedByReason = new Dictionary<string, long>(p.RejectedByReason),
            PromptTokens = p.PromptTokens,
            CompletionTokens = p.CompletionTokens,
            EstimatedCost = p.EstimatedCost,
            TeacherRetries = p.TeacherRetries,
            KeptPerMinute = p.KeptPerMinute,
            Eta = p.KeptPerMinute > 0 ? TimeSpan.FromMinutes(remaining / p.KeptPerMinute) : remaining == 0 ? TimeSpan.Zero : null,
            RegenPath = run.RegenPath,
            DatasetPath = run.DatasetPath,
            DatasetId = string.IsNullOrEmpty(run.DatasetId) ? null : run.DatasetId,
        };
    }
}
