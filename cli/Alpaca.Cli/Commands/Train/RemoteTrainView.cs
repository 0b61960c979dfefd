using System.Globalization;
using Alpaca.Contracts.V1;
using Grpc.Core;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Train;

/// <summary>
/// <c>alpaca train --gateway URL</c>: submits the job to the platform's trainer service and watches it (step,
/// epoch, loss, lr, tokens/s, ETA) until it ends. Ctrl+C stops watching only; the job keeps training on the
/// service, and the same command with <c>--job-id</c> attaches to it again (submit is idempotent by id).
/// </summary>
internal static class RemoteTrainView
{
    public static async Task<int> RunAsync(Uri gateway, JobSpec spec, string? jobId, bool detach, CancellationToken cancellationToken)
    {
        using var channel = CliAuth.Channel(gateway);
        var client = new TrainerService.TrainerServiceClient(channel);
        Job job;
        try
        {
            job = (await client.SubmitJobAsync(new SubmitJobRequest { Spec = spec, JobId = jobId ?? "" }, cancellationToken: cancellationToken)).Job;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.Unavailable or StatusCode.Unimplemented or StatusCode.NotFound)
        {
            AnsiConsole.MarkupLine("[red]error[/]: " + Markup.Escape($"{e.StatusCode}: {e.Status.Detail}"));
            return 1;
        }

        Console.WriteLine($"job {job.Id}: {Describe(job)}");
        if (detach)
        {
            return 0;
        }

        try
        {
            job = AnsiConsole.Profile.Capabilities.Interactive
                ? await WatchWithBarAsync(client, job, cancellationToken)
                : await WatchAsync(client, job, j => Console.WriteLine(Describe(j)), cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException || (e is RpcException r && r.StatusCode == StatusCode.Cancelled))
        {
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                "[yellow]stopped watching[/]: job {0} keeps running on the service; add --job-id {0} to the same command to watch it again.", Markup.Escape(job.Id));
            return 130;
        }

        switch (job.State)
        {
            case JobState.Succeeded:
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[green]done[/]: job {0}, {1} steps, final loss {2:F4}; model in [bold]{3}[/]{4}",
                    Markup.Escape(job.Id), job.Progress.Step, job.Progress.Loss, Markup.Escape(job.CheckpointDir),
                    string.IsNullOrEmpty(job.GgufPath) ? string.Empty : ", GGUF " + Markup.Escape(job.GgufPath));
                return 0;
            case JobState.Cancelled:
                AnsiConsole.MarkupLine($"[yellow]cancelled[/]: job {Markup.Escape(job.Id)}");
                return 1;
            default:
                AnsiConsole.MarkupLine($"[red]failed[/]: job {Markup.Escape(job.Id)}: {Markup.Escape(job.Error)}");
                return 1;
        }
    }

    /// <summary>Streams snapshots until the job ends; returns the last one.</summary>
    private static async Task<Job> WatchAsync(TrainerService.TrainerServiceClient client, Job job, Action<Job> onChange, CancellationToken cancellationToken)
    {
        using var call = client.WatchJob(new WatchJobRequest { JobId = job.Id }, cancellationToken: cancellationToken);
        var last = (State: job.State, Step: -1L);
        await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            job = response.Job;
            if ((job.State, job.Progress?.Step ?? 0) != last)
            {
                last = (job.State, job.Progress?.Step ?? 0);
                onChange(job);
            }
        }

        return job;
    }

    private static async Task<Job> WatchWithBarAsync(TrainerService.TrainerServiceClient client, Job job, CancellationToken cancellationToken)
    {
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(Describe(job)), maxValue: 1);
                job = await WatchAsync(client, job, j =>
                {
                    if (j.Progress is { TotalSteps: > 0 } p)
                    {
                        task.MaxValue = p.TotalSteps;
                        task.Value = p.Step;
                    }

                    task.Description = Markup.Escape(Describe(j));
                }, cancellationToken);
            });
        return job;
    }

    private static string Describe(Job job)
    {
        var state = job.State.ToString().ToLowerInvariant();
        if (job.Progress is not { Step: > 0 } p)
        {
            return state;
        }

        var eta = p.Eta?.ToTimeSpan() ?? TimeSpan.Zero;
        return string.Format(
            CultureInfo.InvariantCulture,
            "{0}  step {1}/{2}  epoch {3:F2}  loss {4:F4}  lr {5:E2}  {6:N0} tok/s  ETA {7:hh\\:mm\\:ss}{8}",
            state, p.Step, p.TotalSteps, p.Epoch, p.Loss, p.LearningRate, p.TokensPerSecond, eta,
            p.CheckpointStep > 0 ? $"  ckpt {p.CheckpointStep}" : string.Empty);
    }
}
