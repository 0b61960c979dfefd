using System.Globalization;
using Alpaca.Trainer.Training;
using Spectre.Console;

namespace Alpaca.Cli.Commands.Train;

/// <summary>Runs a training job behind a progress bar (step, loss, lr, tokens/s, ETA), or plain lines when output is redirected.</summary>
internal static class TrainProgressView
{
    public static async Task<TrainingResult> RunAsync(TrainingJobSpec spec, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lines = new Callback<TrainingStepEvent>(e => Console.WriteLine(Describe(e)));
            var phases = new Callback<TrainingPhase>(p => Console.WriteLine($"[{p}]"));
            return await TrainingJob.RunAsync(spec, lines, phases, cancellationToken);
        }

        TrainingResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("loading", maxValue: 1);
                var steps = new Callback<TrainingStepEvent>(e =>
                {
                    task.MaxValue = e.TotalSteps;
                    task.Value = e.Step;
                    task.Description = Markup.Escape(Describe(e));
                });
                var phases = new Callback<TrainingPhase>(p => task.Description = p.ToString().ToLowerInvariant());
                result = await TrainingJob.RunAsync(spec, steps, phases, cancellationToken);
            });
        return result!;
    }

    private static string Describe(TrainingStepEvent e) => string.Format(
        CultureInfo.InvariantCulture,
        "step {0}/{1}  epoch {2:F2}  loss {3:F4}  lr {4:E2}  {5:N0} tok/s  ETA {6:hh\\:mm\\:ss}{7}",
        e.Step, e.TotalSteps, e.Epoch, e.Loss, e.LearningRate, e.TokensPerSecond, e.Eta,
        e.CheckpointStep > 0 ? $"  ckpt {e.CheckpointStep}" : string.Empty);

    /// <summary>Runs on the training thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class Callback<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
