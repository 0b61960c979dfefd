using System.Globalization;
using Alpaca.Generator.Runs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Alpaca.Cli.Commands.GenerateData;

/// <summary>The live display of a generation run: rounds, kept, rejected by reason, tokens, cost, ETA.</summary>
internal static class GenerateProgressView
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);

    public static async Task<RunProgress> RunAsync(GenerationRun run, SelfInstructRunSpec spec, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Redirected output: one line per processed round or status change.
            long lastRounds = -1;
            var lastStatus = (RunStatus)(-1);
            run.ProgressChanged += p =>
            {
                if (p.Rounds != lastRounds || p.Status != lastStatus)
                {
                    (lastRounds, lastStatus) = (p.Rounds, p.Status);
                    Console.WriteLine(Line(p));
                }
            };
            return await run.RunAsync(spec, cancellationToken);
        }

        RunProgress? latest = null;
        run.ProgressChanged += p => Volatile.Write(ref latest, p);
        RunProgress? result = null;
        await AnsiConsole.Live(new Text("starting…")).AutoClear(false).StartAsync(async context =>
        {
            var task = run.RunAsync(spec, cancellationToken);
            while (!task.IsCompleted)
            {
                await Task.WhenAny(task, Task.Delay(Refresh, CancellationToken.None));
                if (Volatile.Read(ref latest) is { } p)
                {
                    context.UpdateTarget(Render(p));
                }
            }

            result = await task;
            context.UpdateTarget(Render(result));
        });
        return result!;
    }

    /// <summary>The same display for snapshots that come from elsewhere (a run in the service, over WatchRun); returns the last one.</summary>
    public static async Task<RunProgress?> WatchAsync(IAsyncEnumerable<RunProgress> updates, CancellationToken cancellationToken)
    {
        RunProgress? last = null;
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            await foreach (var p in updates.WithCancellation(cancellationToken))
            {
                if (last is null || p.Rounds != last.Rounds || p.Status != last.Status)
                {
                    Console.WriteLine(Line(p));
                }

                last = p;
            }

            return last;
        }

        await AnsiConsole.Live(new Text("waiting for the run…")).AutoClear(false).StartAsync(async context =>
        {
            await foreach (var p in updates.WithCancellation(cancellationToken))
            {
                last = p;
                context.UpdateTarget(Render(p));
            }
        });
        return last;
    }

    public static void PrintSummary(RunProgress p)
    {
        switch (p.Status)
        {
            case RunStatus.Succeeded:
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[green]done[/]: {0} instructions in [bold]{1}[/] and {2}", p.Kept, Markup.Escape(p.DatasetPath ?? ""), Markup.Escape(p.RegenPath ?? ""));
                break;
            case RunStatus.Failed:
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[red]failed[/] after {0} kept: {1}", p.Kept, Markup.Escape(p.Error ?? ""));
                AnsiConsole.MarkupLine("Kept records are saved; fix the cause and run the same command again to continue.");
                break;
            default:
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "run is {0} with {1} kept", p.Status, p.Kept);
                break;
        }
    }

    private static IRenderable Render(RunProgress p)
    {
        var grid = new Grid().AddColumn().AddColumn();
        var ratio = p.Target == 0 ? 1 : (double)p.Kept / p.Target;
        grid.AddRow(new Markup("[bold]status[/]"), new Markup(Markup.Escape($"{p.Status}{(p.Error is null ? "" : ": " + p.Error)}")));
        grid.AddRow(new Markup("[bold]kept[/]"), new Markup(string.Format(CultureInfo.InvariantCulture, "{0} / {1} ({2:P1})  ETA {3}", p.Kept, p.Target, ratio, Eta(p))));
        grid.AddRow(new Markup("[bold]rounds[/]"), new Text(string.Format(CultureInfo.InvariantCulture, "{0} done, {1} in flight, {2} failed (retried)", p.Rounds, p.RoundsInFlight, p.FailedRounds)));
        grid.AddRow(new Markup("[bold]generated[/]"), new Text(string.Format(CultureInfo.InvariantCulture, "{0} items, {1} rejected, {2} beyond the target, {3:F1} kept/min", p.Generated, p.RejectedTotal, p.Surplus, p.KeptPerMinute)));
        foreach (var (reason, count) in p.RejectedByReason.OrderByDescending(r => r.Value))
        {
            grid.AddRow(new Text("  " + reason), new Text(count.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (var (fix, count) in p.CleanedByReason)
        {
            grid.AddRow(new Text("  fixed " + fix), new Text(count.ToString(CultureInfo.InvariantCulture)));
        }

        grid.AddRow(new Markup("[bold]teacher[/]"), new Text(string.Format(CultureInfo.InvariantCulture,
            "{0:N0} prompt + {1:N0} completion tokens, est. cost {2:F2}; {3} retries, {4} context shrinks, {5} garbage replies",
            p.PromptTokens, p.CompletionTokens, p.EstimatedCost, p.TeacherRetries, p.ContextShrinks, p.GarbageReplies)));
        return new Panel(grid).Header($"generate-data {p.RunId}").Expand();
    }

    private static string Eta(RunProgress p) => p.Eta is { } eta ? eta.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "—";

    private static string Line(RunProgress p) => string.Format(CultureInfo.InvariantCulture,
        "[{0}] round {1}: kept {2}/{3}, generated {4}, rejected {5} ({6}), tokens {7}+{8}, cost {9:F2}, ETA {10}{11}",
        p.Status, p.Rounds, p.Kept, p.Target, p.Generated, p.RejectedTotal,
        string.Join(", ", p.RejectedByReason.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}")),
        p.PromptTokens, p.CompletionTokens, p.EstimatedCost, Eta(p), p.Error is null ? "" : " — " + p.Error);
}
